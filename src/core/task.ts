/**
 * What a task module declares so the CLI can offer it. Tasks describe their options as data and
 * receive plain values; they never see commander.
 */
import { BackendInfo } from './backend';
import { Reporter } from './progress';

export type OptionType = 'int' | 'number' | 'string' | 'boolean' | readonly string[];

export interface OptionSpec {
  /** key in the options object the command receives (camelCase) */
  key: string;
  /** as typed: '--epochs <n>', '--attention <file.png>', '--resume' */
  flags: string;
  help: string;
  /** value type; a list of strings is a choice */
  type: OptionType;
  default?: string | number | boolean;
  /** smallest allowed value for numbers */
  min?: number;
  /** largest allowed value for numbers */
  max?: number;
}

export interface ArgSpec {
  /** as shown: '<file.wav>', '[inputs...]' */
  name: string;
  help: string;
}

/** What every command run gets besides its own options. */
export interface RunContext {
  reporter: Reporter;
  backend: BackendInfo;
  seed: number;
  checkpointDir: string;
  /** keys of the options the user typed (not defaults): a resumed run warns about those it ignores */
  explicit: ReadonlySet<string>;
  /** the command's human-readable result lines (stdout; not in --json mode) */
  print(line: string): void;
}

export type Options = Record<string, string | number | boolean | undefined>;

export interface Command<R extends object = object> {
  help: string;
  options?: OptionSpec[];
  args?: ArgSpec;
  /** train commands that can continue from their checkpoint get --resume */
  resumable?: boolean;
  /** false for commands that neither read nor write a checkpoint (they get no --checkpoint) */
  usesCheckpoint?: boolean;
  /** returns the machine-readable result (printed as the last stdout line with --json) */
  run(args: string[], options: Options, ctx: RunContext): Promise<R>;
}

export interface Task {
  name: string;
  summary: string;
  /** one example command per line, shown in --help */
  examples: string[];
  train?: Command;
  eval?: Command;
  sample?: Command;
  detect?: Command;
  /** what `seqlab info` says about the task's data on this machine (key: a short value) */
  status?(): Record<string, string>;
}

export type Verb = 'train' | 'eval' | 'sample' | 'detect';
