import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { JobManagerClient } from "../jobmanager/client.js";
import { dataPaths, ensureDataDir } from "../jobmanager/paths.js";
import { CLIError } from "./cli-error.js";
import { addressOf, dashboardUrl, type ServerOptions } from "./cli-options.js";
import type { ClusterInfo } from "../jobmanager/cluster-link.js";
import { probeJobManager } from "./jobmanager-probe.js";
import { printable } from "./safe-text.js";
import { clusterSummary } from "./jobmanager-status.js";
import { settingsArgs, settingsEnv, type JobManagerSettings } from "./jobmanager-settings.js";
import { serverToken } from "./jobmanager-token.js";
import { readPid, readRecordedAddress, writePid } from "./pid-file.js";

/** How long `start` waits for the new server to answer before giving up. */
const START_TIMEOUT_MS = 15_000;

/**
 * Checks for a JobManager already running on the data dir or the address. Resolves true (after
 * saying so) when one is running and healthy there; throws when something else is in the way.
 */
export async function refuseIfRunning(options: ServerOptions, out: { write(text: string): unknown }): Promise<boolean> {
  // Port 0 names no address: the data dir's server, if any, is looked for where it listens.
  if (options.port === 0) options = { ...options, ...readRecordedAddress(dataPaths(options.dataDir).pid) };
  const probe = await probeJobManager(options);
  if (probe.pid !== undefined && probe.healthy) {
    out.write(`JobManager already running at ${addressOf(options)} (pid ${probe.pid})\n`);
    return true;
  }
  if (probe.pid !== undefined) {
    // Two servers on one data dir would fight over its job store.
    throw new CLIError(
      `a JobManager (pid ${probe.pid}) already uses data dir ${options.dataDir} but does not answer at ${addressOf(options)}; stop it first with 'sage jobmanager stop --data-dir ${options.dataDir}'`,
      "E_ALREADY_RUNNING",
      1,
    );
  }
  if (probe.healthy) {
    throw new CLIError(`another JobManager already answers at ${addressOf(options)} (not one started from data dir ${options.dataDir})`, "E_ADDRESS_IN_USE", 1);
  }
  return false;
}

/**
 * `sage jobmanager start`: runs `sage jobmanager start --foreground` detached, its output appended
 * to the log file, and resolves once that very process answers on the API (its pid is in
 * /api/info), so a start is never mistaken for another server's.
 */
export async function startInBackground(options: ServerOptions, out: NodeJS.WritableStream = process.stdout, settings?: JobManagerSettings): Promise<number> {
  if (await refuseIfRunning(options, out)) return 0;
  const token = serverToken(options);
  const paths = dataPaths(options.dataDir);
  ensureDataDir(options.dataDir);
  const logStart = existsSync(paths.log) ? statSync(paths.log).size : 0;
  const log = openSync(paths.log, "a", 0o600);
  // bin/sage.js, two levels up from this module in both src/cli and dist/cli.
  const entry = fileURLToPath(new URL("../../bin/sage.js", import.meta.url));
  const args = [entry, "jobmanager", "start", "--foreground", "--host", options.host, "--port", String(options.port), "--data-dir", options.dataDir, ...(settings ? settingsArgs(settings) : [])];
  // The token (and the cluster's URL) go through the environment: argv is visible to every user of the machine.
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", log, log], env: { ...process.env, SAGE_TOKEN: token, ...(settings && settingsEnv(settings)) } });
  closeSync(log);
  let exited: string | undefined;
  const exit = new Promise<undefined>((resolve) => {
    child.once("exit", (code, signal) => resolve(void (exited = signal ? `signal ${signal}` : `exit code ${code}`)));
    child.once("error", (error) => resolve(void (exited = error.message)));
  });

  const deadline = Date.now() + START_TIMEOUT_MS;
  let client: JobManagerClient | undefined;
  let cluster: ClusterInfo | undefined;
  for (;;) {
    if (exited !== undefined) {
      throw new CLIError(`the JobManager did not start (${exited})${logTail(paths.log, logStart)}`, "E_START_FAILED", 1);
    }
    // With port 0 the server picks its port: it is read from the pid file the new server writes.
    if (options.port === 0 && readPid(paths.pid) === child.pid) options = { ...options, ...readRecordedAddress(paths.pid) };
    if (options.port !== 0) client ??= new JobManagerClient({ host: options.host, port: options.port, token, requestTimeoutMs: 1000 });
    const info = client ? await Promise.race([client.info().catch(() => undefined), exit]) : undefined;
    if (info && info.pid === child.pid) {
      cluster = info.cluster as ClusterInfo | undefined;
      break;
    }
    if (Date.now() >= deadline) {
      child.kill("SIGKILL");
      throw new CLIError(`the JobManager did not answer at ${addressOf(options)} within ${START_TIMEOUT_MS / 1000} s${logTail(paths.log, logStart)}`, "E_START_TIMEOUT", 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Held until now so its exit is noticed while waiting; from here on it outlives this CLI.
  child.unref();
  // The server writes it too; writing it here means `start` returns with it in place.
  writePid(paths.pid, child.pid!, { host: options.host, port: options.port });
  out.write(
    `JobManager started at http://${addressOf(options)} (pid ${child.pid})\n  dashboard: ${dashboardUrl(options)}\n  token:     ${paths.token} (the dashboard's login asks for it)\n` +
      `  data dir:  ${options.dataDir}\n  log:       ${paths.log}\n${cluster ? `  cluster:   ${clusterSummary(cluster)}\n` : ""}`,
  );
  return 0;
}

// What the failed server wrote to the log since `from`, for the error message.
function logTail(file: string, from: number): string {
  if (!existsSync(file)) return "";
  const lines = readFileSync(file).subarray(from).toString("utf8").trimEnd().split("\n").filter(Boolean).slice(-15).map(messageOfLine);
  return lines.length === 0 ? "" : `; the log says:\n  ${lines.join("\n  ")}`;
}

// A line of a JSON log (--log-format json) reads as its message (escaped, as a text log's line is);
// a text line as it is.
function messageOfLine(line: string): string {
  if (!line.startsWith("{")) return line;
  try {
    const msg = (JSON.parse(line) as { msg?: unknown }).msg;
    return typeof msg === "string" ? printable(msg) : line;
  } catch {
    return line;
  }
}
