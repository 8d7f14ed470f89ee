/**
 * Shared helpers of the remote-mode suites: a JobManager started in the test (free port, temp data
 * dir, random token), raw HTTP requests, job modules bundled from generated source, and a way to
 * find the job processes a server started (to prove none is left behind).
 */
import { randomBytes } from "node:crypto";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "node:util";
import { JobManagerClient, type JobStatus, type Logger } from "../../src/index.js";
import { bundleEntry } from "../../src/cluster/bundle.js";
import { isAlive } from "../../src/cluster/process-alive.js";
import { startJobManagerServer, type JobManagerServer, type JobManagerServerOptions } from "../../src/jobmanager/server.js";

/** This directory (test/remote/), derived from the module's URL. */
export const remoteTestDir = fileURLToPath(new URL(".", import.meta.url));

/** A JobManager started by a test. */
export interface TestServer {
  server: JobManagerServer;
  port: number;
  token: string;
  dataDir: string;
  client: JobManagerClient;
  baseUrl: string;
  /** What the server logged (it logs here, not to the console). */
  logLines: string[];
  /** Closes the server (idempotent). Does not remove the data dir. */
  close(): Promise<void>;
}

/** Options of {@link startTestServer}. */
export interface TestServerOptions {
  /** Reuse a data dir (server restart); a new temp dir otherwise. */
  dataDir?: string;
  token?: string;
  maxBodyBytes?: number;
  stopGraceMs?: number;
  heartbeatMs?: number;
  logLimits?: JobManagerServerOptions["logLimits"];
  retention?: JobManagerServerOptions["retention"];
  maxReportBytes?: number;
  historyIntervalMs?: number;
  dashboardDir?: string;
}

/** Starts a JobManager on a free loopback port with a temp data dir and a random token. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sage-remote-test-"));
  const token = options.token ?? randomBytes(18).toString("base64url");
  const logLines: string[] = [];
  const server = await startJobManagerServer({
    host: "127.0.0.1",
    port: 0,
    token,
    dataDir,
    version: "test",
    maxBodyBytes: options.maxBodyBytes,
    stopGraceMs: options.stopGraceMs,
    heartbeatMs: options.heartbeatMs,
    logLimits: options.logLimits,
    retention: options.retention,
    maxReportBytes: options.maxReportBytes,
    historyIntervalMs: options.historyIntervalMs,
    dashboardDir: options.dashboardDir,
    logger: collectingLogger(logLines),
  });
  let closed: Promise<void> | undefined;
  return {
    server,
    port: server.port,
    token,
    dataDir,
    client: new JobManagerClient({ port: server.port, token }),
    baseUrl: `http://127.0.0.1:${server.port}`,
    logLines,
    close: () => (closed ??= server.close()),
  };
}

function collectingLogger(lines: string[]): Logger {
  const at = (level: string) => (message: unknown, ...args: unknown[]) => void lines.push(`${level} ${format(message, ...args)}`);
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** An HTTP answer: status and parsed JSON body (or the raw text when it is not JSON). */
export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * A raw request. `body` is JSON-encoded unless `raw` gives the exact body text; `token: null`
 * sends no Authorization header, a string sends that token, undefined sends the server's.
 */
export async function request(
  server: Pick<TestServer, "baseUrl" | "token">,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string | Buffer; token?: string | null } = {},
): Promise<Answer> {
  const token = options.token === undefined ? server.token : options.token;
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: {
      ...(token !== null && { authorization: `Bearer ${token}` }),
      ...(payload !== undefined && { "content-type": "application/json" }),
    },
    body: payload,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body };
}

/** GET /api/health: `{ status: "ok", ... }` when the server is up. */
export async function health(server: Pick<TestServer, "baseUrl" | "token">): Promise<Answer> {
  return request(server, "GET", "/api/health", { token: null });
}

/** A temp directory inside test/remote/ (so generated job modules resolve the repo's imports). */
export function makeRepoTmpDir(): string {
  const dir = join(remoteTestDir, `.tmp-${randomBytes(6).toString("hex")}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes a directory made by {@link makeRepoTmpDir} or a server's data dir. */
export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** The import specifier of src/index.ts relative to a file directly inside a `.tmp-*` dir. */
export const SAGE_IMPORT = "../../../src/index.js";

/** Source of a service `Ticker` (needs BaseService in scope) whose metric `ticks` counts up every 20 ms while it runs. */
export const TICKER_SERVICE = `class Ticker extends BaseService {
  ticks = 0;
  timer: ReturnType<typeof setInterval> | undefined;
  setup() {
    this.timer = setInterval(() => this.ticks++, 20);
  }
  metrics() {
    return { ticks: this.ticks };
  }
  cleanup() {
    clearInterval(this.timer);
  }
}`;

/**
 * Writes `source` (TypeScript, may `import ... from SAGE_IMPORT`) as `<dir>/<name>.ts` and bundles
 * it into a job module, the code `POST /api/jobs` takes.
 */
export async function bundleSource(dir: string, name: string, source: string): Promise<string> {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, source);
  return bundleEntry(file);
}

/** Submits a bundled job module with a raw POST; answers the created status (throws on refusal). */
export async function submitRaw(server: TestServer, name: string, code: string, options: Record<string, unknown> = {}): Promise<JobStatus> {
  const answer = await request(server, "POST", "/api/jobs", { body: { name, code, options } });
  if (answer.status !== 201) throw new Error(`submit refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as JobStatus;
}

/**
 * The pids of the job processes whose bundle lies under `dataDir` (read from each process's
 * environment in /proc, where the supervisor passes SAGE_JOB_BUNDLE). Where /proc is missing,
 * falls back to every process running `job-process` (not scoped to the data dir).
 */
export function jobProcessPids(dataDir: string, jobId?: string): number[] {
  const needle = `SAGE_JOB_BUNDLE=${join(dataDir, "jobs")}${sep}${jobId ?? ""}`;
  if (!existsSync("/proc/self/environ")) {
    const out = execFileSync("ps", ["-axww", "-o", "pid=,command="], { encoding: "utf8" });
    return out
      .split("\n")
      .filter((line) => line.includes("job-process"))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
  }
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, "latin1");
    } catch {
      continue; // gone, or not ours
    }
    if (environ.split("\0").some((v) => v.startsWith(needle)) && isAlive(Number(entry))) pids.push(Number(entry));
  }
  return pids;
}

export { isAlive };

/**
 * Ends a test file's server: closes it, kills and reports any job process left behind, and removes
 * its data dir and the file's temp dir.
 */
export async function closeTestServer(server: TestServer | undefined, tmp?: string): Promise<void> {
  await server?.close();
  const left = server ? await leftoverJobProcesses(server.dataDir) : [];
  killPids(left);
  removeDir(tmp);
  removeDir(server?.dataDir);
  if (left.length > 0) throw new Error(`job processes left behind: ${left.join(", ")}`);
}

/** Polls `check` until it returns true; rejects after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The job processes of `dataDir` still alive after a short settling wait (should be none). */
export async function leftoverJobProcesses(dataDir: string, settleMs = 3000): Promise<number[]> {
  try {
    await waitUntil(() => jobProcessPids(dataDir).length === 0, settleMs);
  } catch {
    // report what is left
  }
  return jobProcessPids(dataDir);
}

/** Kills leftover job processes (cleanup after a failed assertion; never a broad match). */
export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Log lines of a job (the lines after number `since`). */
export async function jobLogs(server: TestServer, id: string, since = 0): Promise<string[]> {
  return (await server.client.logs(id, since)).lines;
}

/** A job's pid as it printed it (`PID <n>` on its log). */
export async function printedPid(server: TestServer, id: string, timeoutMs = 10_000): Promise<number> {
  let pid: number | undefined;
  await waitUntil(
    async () => {
      const line = (await jobLogs(server, id)).find((l) => l.startsWith("PID "));
      pid = line ? Number(line.slice(4)) : undefined;
      return pid !== undefined;
    },
    timeoutMs,
    `job ${id} to print its pid`,
  );
  return pid!;
}

/**
 * Waits until the server has seen the job's process end: its event stream closes only after the
 * supervisor's final event, sent once the process is gone and its output read. (A terminal state
 * event comes earlier, from the job process itself, while it may still be writing output.)
 */
export async function untilJobProcessEnded(server: TestServer, id: string, timeoutMs = 10_000): Promise<JobStatus | undefined> {
  const events = server.client.events(id);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    events.close();
  }, timeoutMs);
  let last: JobStatus | undefined;
  try {
    for await (const event of events) if (event.type === "state") last = event.status;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new Error(`job ${id}: its process did not end within ${timeoutMs} ms`);
  return last;
}

/** What a script run by {@link runScript} did. */
export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript file as its own process (`node --import tsx`), to its end or `timeoutMs`. */
export function runScript(file: string, env: Record<string, string> = {}, timeoutMs = 25_000): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
