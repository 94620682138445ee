/** Running the CLI from tests: in-process (fast) or as a real child process (signals, streaming). */
import * as path from 'path';
import { ChildProcessWithoutNullStreams, spawn } from 'child_process';
import { main } from '../src/cli';

/** Runs the CLI in-process; returns exit code and what it wrote. */
export async function seqlab(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += s.toString()), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += s.toString()), true));
  try {
    const code = await main(['node', 'seqlab', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/**
 * bin/seqlab in a child process (the global setup has built dist/), with this test file's
 * environment (jest gives each file its own process.env, which child_process would not see).
 */
export function spawnSeqlab(...args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'seqlab'), ...args], { env: { ...process.env } });
}

/** Waits for a child to exit; returns its code and everything it printed. */
export function finished(child: ChildProcessWithoutNullStreams, onErr?: (err: string) => void, onOut?: (out: string) => void) {
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
    onOut?.(out);
  });
  child.stderr.on('data', (d) => {
    err += d;
    onErr?.(err);
  });
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}
