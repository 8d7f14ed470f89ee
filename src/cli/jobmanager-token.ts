import { readToken, storeToken } from "../jobmanager/paths.js";
import { CLIError } from "./cli-error.js";
import { isLoopback, type ServerOptions } from "./cli-options.js";

/**
 * The token a JobManager started with `options` uses. An explicit one (--token or SAGE_TOKEN) is
 * stored in the data dir too, so the CLI and clients on this machine find it; without one the
 * stored token is reused, or a random one is created. A server reachable from other machines
 * must not run on a token nobody chose, so a non-loopback host needs an explicit one.
 */
export function serverToken(options: ServerOptions): string {
  if (options.explicitToken) return storeToken(options.dataDir, options.explicitToken);
  if (!isLoopback(options.host)) {
    throw new CLIError(
      `refusing to listen on non-loopback address ${options.host} without an explicit token: pass --token <secret> or set SAGE_TOKEN`,
      "E_TOKEN_REQUIRED",
    );
  }
  return readToken(options.dataDir) ?? storeToken(options.dataDir);
}
