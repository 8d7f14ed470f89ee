import { createJsonLog, jsonLogger } from "../api/json-logger.js";
import type { Logger } from "../api/types.js";
import { ClusterUnavailableError } from "../jobmanager/cluster-link.js";
import { dataPaths } from "../jobmanager/paths.js";
import { startJobManagerServer, type JobManagerServer } from "../jobmanager/server.js";
import { CLIError } from "./cli-error.js";
import { addressOf, type ServerOptions } from "./cli-options.js";
import { failingAsJson } from "./json-failure.js";
import type { JobManagerSettings } from "./jobmanager-settings.js";
import { refuseIfRunning } from "./jobmanager-start.js";
import { serverToken } from "./jobmanager-token.js";
import { removePid, writePid } from "./pid-file.js";
import { packageVersion } from "./version.js";

/**
 * `sage jobmanager start --foreground`: runs the server in this process until SIGINT or SIGTERM,
 * then closes it (running jobs are ended, the store is closed) and removes the pid file. A second
 * signal during the close ends the process at once. With `--log-format json` every line it writes,
 * its own and a failure's included, is a JSON object on stderr.
 */
export async function runForeground(options: ServerOptions, settings?: JobManagerSettings, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (settings?.logFormat !== "json") return serve(options, settings, (line) => out.write(`${line}\n`));
  const logger = jsonLogger(createJsonLog({ name: "jobmanager" }));
  return failingAsJson("jobmanager", () => serve(options, settings, (line) => logger.info(line), logger));
}

async function serve(options: ServerOptions, settings: JobManagerSettings | undefined, say: (line: string) => void, logger?: Logger): Promise<number> {
  if (await refuseIfRunning(options, { write: (text) => say(text.trimEnd()) })) return 0;
  const token = serverToken(options);
  // Job processes inherit this process's environment; user code has no business with the token.
  delete process.env.SAGE_TOKEN;
  let server: JobManagerServer;
  try {
    server = await startJobManagerServer({ host: options.host, port: options.port, token, dataDir: options.dataDir, version: packageVersion(), ...settings, logger });
  } catch (error) {
    if (error instanceof ClusterUnavailableError) throw new CLIError(error.message, "E_CLUSTER", 1);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new CLIError(`cannot listen on ${addressOf(options)}: the address is already in use`, "E_ADDRESS_IN_USE", 1);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new CLIError(`cannot listen on ${addressOf(options)}: no such local address`, "E_BAD_ADDRESS", 1);
    throw error;
  }
  const pidFile = dataPaths(options.dataDir).pid;
  // The address goes with the pid: `status` and `stop` on this data dir find the server without --port.
  writePid(pidFile, process.pid, { host: server.host, port: server.port });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (received: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(received);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  say(`JobManager received ${signal}: stopping`);
  try {
    await server.close();
  } finally {
    removePid(pidFile, process.pid);
  }
  say("JobManager stopped");
  return 0;
}
