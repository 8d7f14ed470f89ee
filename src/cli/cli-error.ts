/** A user mistake on the command line: printed without a stack, with a stable code. */
export class CLIError extends Error {
  constructor(
    message: string,
    /** Stable code, e.g. `E_FILE_NOT_FOUND`. */
    readonly code: string,
    /** Process exit code. */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = "CLIError";
  }
}
