/** What every `gift` subcommand provides; cli/commands.ts lists them. */
export interface Command {
  /** The word after `gift`, e.g. `train`. */
  readonly name: string;
  /** One line for `gift --help`. */
  readonly summary: string;
  /** The full text of `gift <name> --help`. */
  readonly usage: string;
  /** Runs with the arguments after the name; resolves to the process exit code. */
  run(args: readonly string[]): Promise<number>;
}

/** A wrong invocation: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
