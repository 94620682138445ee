/**
 * Errors a user can act on. The CLI prints their message alone (no stack) and exits with
 * their code: 2 for a bad command line, 1 for bad input files or failed runs.
 */
export class SeqlabError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'SeqlabError';
  }
}

/** A bad flag value or argument: exit code 2, like any usage error. */
export class UsageError extends SeqlabError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** Training produced a loss that is not a finite number. */
export class NonFiniteLossError extends SeqlabError {
  /** `where`: 'epoch 3, batch 7' or 'iteration 1200'; `remedy`: the flags to lower */
  constructor(readonly where: string, remedy = '--lr') {
    super(`training stopped: the loss became NaN/Infinity at ${where}. The last good checkpoint is kept; try a lower ${remedy}.`);
    this.name = 'NonFiniteLossError';
  }
}

/** The message of anything thrown, including the plain strings some libraries throw. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
