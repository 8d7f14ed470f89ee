import { JobManagerError, PipelineDefinitionError } from "../api/errors.js";
import { CLIError } from "./cli-error.js";
import { keepingAlive } from "./keep-alive.js";
import { printable } from "./safe-text.js";

/**
 * Runs `work`, turning JobManager failures into CLIErrors that print as `sage: <message> (<code>)`:
 * the server's own code for refused requests, a message naming `address` when nothing answers.
 */
export async function explainServerErrors<T>(address: string, work: () => Promise<T>): Promise<T> {
  try {
    return await keepingAlive(work);
  } catch (error) {
    throw toCLIError(error, address);
  }
}

/** The CLIError a failed JobManager request stands for; other errors pass through unchanged. */
export function toCLIError(error: unknown, address: string): unknown {
  if (error instanceof PipelineDefinitionError) return new CLIError(error.message, error.code, 1);
  if (!(error instanceof JobManagerError)) return error;
  if (error.serverCode === "E_UNREACHABLE") {
    // The client's message carries a URL and a low-level cause; lead with what the user can act on.
    const cause = error.message.replace(/^(?:cannot reach the JobManager at \S+|event stream to \S+ failed): /, "");
    return new CLIError(`no JobManager answers at ${address} (${printable(cause)}); start one with 'sage jobmanager start' or check --host/--port`, "E_UNREACHABLE", 1);
  }
  const hint = error.httpStatus === 401 ? "; pass --token, set SAGE_TOKEN, or point --data-dir at the server's data directory" : "";
  // The server's words reach the terminal: no control characters of its own.
  return new CLIError(`${printable(error.message)}${hint}`, printable(error.serverCode), 1);
}
