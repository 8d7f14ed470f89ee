import { messageOf } from "../api/errors.js";
import { CLIError } from "./cli-error.js";

/**
 * Runs a command whose log is JSON: its failure is written as a JSON error line on stderr (with the
 * CLIError's code) instead of `sage: ...` text, so every line of the log parses; answers the exit code.
 */
export async function failingAsJson(name: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    // pino loads for a failure only: registering this command must not load it for every `sage` run.
    const { createJsonLog } = await import("../api/json-logger.js");
    const log = createJsonLog({ name });
    if (error instanceof CLIError) {
      log.error({ code: error.code }, error.message);
      return error.exitCode;
    }
    log.error({ err: error }, messageOf(error));
    return 1;
  }
}
