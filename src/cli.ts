/**
 * The seqlab command line: `seqlab <verb> <task> [options]`. A thin table: each task module
 * declares its commands and options (src/tasks/); this file turns them into commander commands,
 * adds the options every task shares, and turns errors into one clear line and an exit code.
 */
import { Command as Commander, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BACKENDS, BackendName, describeBackend, initBackend } from './core/backend';
import { defaultCheckpointDir } from './core/checkpoint';
import * as path from 'path';
import { SeqlabError, messageOf } from './core/errors';
import { kernelBuild, kernels } from './core/kernels';
import { fsReason, isFsError } from './core/files';
import { OutputMode, Reporter } from './core/progress';
import { Command, Options, OptionSpec, Task, Verb } from './core/task';
import { TASKS } from './tasks';
import { seqlabVersion } from './core/paths';

const VERBS: { verb: Verb; help: string }[] = [
  { verb: 'train', help: 'train a task\'s model and save a checkpoint' },
  { verb: 'eval', help: 'measure a trained model on held-out data' },
  { verb: 'sample', help: 'run a trained model on your inputs' },
  { verb: 'detect', help: 'find events in a file with a trained model' },
];

/** Options every task command has. */
const COMMON: OptionSpec[] = [
  { key: 'backend', flags: '--backend <name>', help: 'tfjs backend', type: BACKENDS, default: 'auto' },
  { key: 'seed', flags: '--seed <n>', help: 'random seed (data, initialisation, sampling), 0 to 4294967295', type: 'int', default: 1, min: 0, max: 2 ** 32 - 1 },
  { key: 'checkpoint', flags: '--checkpoint <dir>', help: 'checkpoint folder (default: datasets/<task>/checkpoint)', type: 'string' },
  { key: 'json', flags: '--json', help: 'machine-readable output: JSON lines, the result last', type: 'boolean' },
  { key: 'quiet', flags: '--quiet', help: 'no progress or information, only results', type: 'boolean' },
];

const RESUME: OptionSpec = { key: 'resume', flags: '--resume', help: 'continue from the checkpoint where training stopped, with its settings', type: 'boolean' };
const OVERWRITE: OptionSpec = { key: 'overwrite', flags: '--overwrite', help: 'replace a checkpoint of another task in --checkpoint', type: 'boolean' };

/** The options a task command gets besides its own: --resume and --overwrite for train, the common ones. */
function sharedOptions(verb: Verb, command: Command): OptionSpec[] {
  const checkpoint = command.usesCheckpoint !== false;
  return [
    ...(command.resumable ? [RESUME] : []),
    ...(verb === 'train' && checkpoint ? [OVERWRITE] : []),
    ...COMMON.filter((o) => checkpoint || o.key !== 'checkpoint'),
  ];
}

function parser(spec: OptionSpec): ((value: string) => unknown) | undefined {
  const { type, min, max } = spec;
  const flag = spec.flags.split(' ')[0];
  if (type === 'int' || type === 'number') {
    return (value: string) => {
      const n = Number(value);
      const ok = value.trim() !== '' && Number.isFinite(n) && (type === 'number' || Number.isInteger(n));
      if (!ok) throw new InvalidArgumentError(`${flag} takes ${type === 'int' ? 'a whole number' : 'a number'}, not '${value}'.`);
      if (min !== undefined && n < min) throw new InvalidArgumentError(`${flag} must be at least ${min}, not ${value}.`);
      if (max !== undefined && n > max) throw new InvalidArgumentError(`${flag} must be at most ${max}, not ${value}.`);
      return n;
    };
  }
  return undefined;
}

function toOption(spec: OptionSpec): Option {
  const opt = new Option(spec.flags, spec.help);
  if (Array.isArray(spec.type)) opt.choices(spec.type as string[]);
  const parse = parser(spec);
  if (parse) opt.argParser(parse);
  if (spec.default !== undefined && spec.type !== 'boolean') opt.default(spec.default);
  return opt;
}

async function runCommand(task: Task, verb: Verb, command: Command, args: string[], options: Options, explicit: Set<string>): Promise<void> {
  const mode: OutputMode = options.json ? 'json' : options.quiet ? 'quiet' : 'human';
  const reporter = new Reporter(mode);
  const backend = await initBackend(options.backend as BackendName);
  reporter.info(describeBackend(backend));
  reporter.event('backend', { backend: backend.name, attempts: backend.attempts });
  const ctx = {
    reporter,
    backend,
    seed: options.seed as number,
    checkpointDir: options.checkpoint ? path.resolve(options.checkpoint as string) : defaultCheckpointDir(task.name),
    explicit,
    print: (line: string) => {
      if (mode !== 'json') process.stdout.write(line + '\n');
    },
  };
  const result = await command.run(args, options, ctx);
  if (mode === 'json') process.stdout.write(JSON.stringify({ task: task.name, command: verb, ...result }) + '\n');
}

export function buildProgram(tasks: readonly Task[] = TASKS): Commander {
  const program = new Commander('seqlab')
    .description('Sequence models (RNN, LSTM, GRU, attention) on TensorFlow.js: train, evaluate and sample from one CLI.')
    .version(seqlabVersion())
    .showHelpAfterError('(add --help for usage)');
  program.addHelpText(
    'after',
    '\nTasks:\n' +
      tasks.map((t) => `  ${t.name.padEnd(9)} ${t.summary}\n            e.g. ${t.examples[0]}`).join('\n') +
      '\n\nRun `seqlab <command> <task> --help` for a task\'s options.',
  );

  for (const { verb, help } of VERBS) {
    const withVerb = tasks.filter((t) => t[verb]);
    if (!withVerb.length) continue;
    const group = program.command(verb).description(`${help} (${withVerb.map((t) => t.name).join(', ')})`);
    for (const task of withVerb) {
      const command = task[verb]!;
      const sub = group.command(task.name).description(command.help);
      if (command.args) sub.argument(command.args.name, command.args.help);
      for (const spec of [...(command.options ?? []), ...sharedOptions(verb, command)]) sub.addOption(toOption(spec));
      const examples = task.examples.filter((e) => e.includes(` ${verb} `));
      if (examples.length) sub.addHelpText('after', '\nExamples:\n' + examples.map((e) => `  ${e}`).join('\n'));
      sub.action(async (...actionArgs: unknown[]) => {
        const cmd = actionArgs[actionArgs.length - 1] as Commander;
        const positional = command.args ? actionArgs[0] : undefined;
        const args = positional === undefined ? [] : Array.isArray(positional) ? (positional as string[]) : [positional as string];
        const opts = cmd.opts() as Options;
        const explicit = new Set(Object.keys(opts).filter((k) => cmd.getOptionValueSource(k) === 'cli'));
        await runCommand(task, verb, command, args, opts, explicit);
      });
    }
  }

  program
    .command('info')
    .description('show the backend seqlab would use and why, versions and threads')
    .addOption(toOption(COMMON[0]))
    .addOption(toOption(COMMON[3]))
    .action(async (opts: Options) => {
      const info = await initBackend(opts.backend as BackendName);
      const own = info.name === 'wasm' || info.name === 'cpu';
      const fused = own && (kernels(), kernelBuild === 'fma');
      const facts = {
        seqlab: seqlabVersion(),
        node: process.version,
        tfjs: info.tfjsVersion,
        backend: info.name,
        threads: info.threads,
        ...(own ? { kernels: kernelBuild } : {}),
        ...(info.adapter ? { adapter: info.adapter } : {}),
        tried: info.attempts,
        tasks: tasks.map((t) => t.name),
        data: Object.fromEntries(tasks.filter((t) => t.status).map((t) => [t.name, t.status!()])),
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(facts) + '\n');
        return;
      }
      process.stdout.write(
        `seqlab ${facts.seqlab} (node ${facts.node}, tfjs ${facts.tfjs})\n` +
          `backend: ${info.name} (${info.adapter ?? `${info.threads} thread${info.threads === 1 ? '' : 's'}${own ? ` in seqlab's kernels, ${fused ? 'fused multiply-adds' : 'SIMD without fused multiply-adds'}` : ''}`})\n` +
          info.attempts.map((a) => `  ${a}`).join('\n') +
          `\ntasks: ${facts.tasks.join(', ')}\n` +
          Object.entries(facts.data)
            .flatMap(([task, lines]) => Object.entries(lines).map(([k, v]) => `${task} ${k}: ${v}\n`))
            .join(''),
      );
    });
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting (for tests). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  for (const group of program.commands) {
    group.exitOverride();
    for (const sub of group.commands) sub.exitOverride();
  }
  const [verb, taskName] = argv.slice(2);
  if (verb === undefined) {
    process.stderr.write(program.helpInformation());
    process.stderr.write('\nseqlab: give a command, e.g. seqlab train nmt\n');
    return 2;
  }
  const group = program.commands.find((c) => c.name() === verb && c.commands.length);
  if (group && taskName === undefined) {
    process.stderr.write(`seqlab: ${verb} needs a task: seqlab ${verb} <task> (tasks: ${group.commands.map((c) => c.name()).join(', ')})\n`);
    return 2;
  }
  if (group && taskName && !taskName.startsWith('-') && !group.commands.some((c) => c.name() === taskName)) {
    const known = group.commands.map((c) => c.name()).join(', ');
    process.stderr.write(`seqlab: unknown task '${taskName}' for ${verb} (tasks: ${known})\n`);
    return 2;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed its message already; help and version are not errors
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) return 0;
      if (err.code === 'commander.executeSubCommandAsync') return 0;
      return 2;
    }
    if (err instanceof SeqlabError) {
      process.stderr.write(`seqlab: ${err.message}\n`);
      return err.exitCode;
    }
    if (isFsError(err)) {
      // a file-system error no task turned into words: still one line, with the reason and the path
      process.stderr.write(`seqlab: ${err.syscall ? `${err.syscall} ` : ''}${err.path ?? ''}: ${fsReason(err)}\n`);
      return 1;
    }
    process.stderr.write(`seqlab: unexpected error: ${messageOf(err)}\n`);
    if (process.env.SEQLAB_DEBUG) process.stderr.write(String((err as Error)?.stack) + '\n');
    return 1;
  }
}
