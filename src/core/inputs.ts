/** Inputs given on the command line, or one per line on stdin when an argument is '-'. */
import { UsageError } from './errors';

export async function readStdinLines(stream: NodeJS.ReadableStream = process.stdin): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks)
    .toString('utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
}

/**
 * The inputs to run on: each argument, with '-' replaced by the lines of stdin.
 * No inputs at all, or an empty one, is a usage error naming what was expected.
 */
export async function readInputs(args: string[], what: string, stdin?: NodeJS.ReadableStream): Promise<string[]> {
  const inputs: string[] = [];
  for (const arg of args) {
    if (arg === '-') inputs.push(...(await readStdinLines(stdin)));
    else if (arg.trim() === '') throw new UsageError(`empty input: give ${what}`);
    else inputs.push(arg);
  }
  if (!inputs.length) throw new UsageError(`no input: give ${what}, or - to read lines from stdin`);
  return inputs;
}
