/**
 * The entry of a JobManager job process: evaluates one job module (a bundle) with the job process
 * hook installed, so the module's `env.submit()` runs the pipeline here and reports to the
 * supervisor over its report channel. The process exits by itself once the job and the module are done.
 */
import { Socket } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { installJobProcessHook, type JobProcessOptions } from "../api/executor.js";
import { isSageError, messageOf } from "../api/errors.js";
import { CLIENT_ENV_NAMES, installEnvGuard } from "./env-guard.js";
import { ModuleRun } from "./module-run.js";
import { muteOutput } from "../cluster/mute-output.js";
import { flushStdio } from "../cluster/exit-after-output.js";
import { killJobProcesses } from "../cluster/process-tree.js";
import type { JobProcessMessage, SupervisorMessage } from "./protocol.js";
import { CONTROL_FD, DEFAULT_MAX_REPORT_BYTES, FrameWriter, readFrames, REPORTS_FD } from "./report-channel.js";

const jobId = process.env.SAGE_JOB_ID;
const bundle = process.env.SAGE_JOB_BUNDLE;
const options = JSON.parse(process.env.SAGE_JOB_OPTIONS ?? "{}") as JobProcessOptions;

// The channel to the supervisor (the pipes it gave this process): it must not keep the process
// alive by itself, the running job does, as long as it runs.
const reports = openPipe(REPORTS_FD, "write");
const control = openPipe(CONTROL_FD, "read");
const writer = reports && new FrameWriter(reports);

function send(message: JobProcessMessage): void {
  writer?.write(message);
}

// The job's bundled code cannot find this package's CLI by itself: an embedded cluster needs it.
(globalThis as Record<symbol, unknown>)[Symbol.for("sage.cliEntry")] = fileURLToPath(new URL("../../bin/sage.js", import.meta.url));

// Bundles carry inline source maps: stacks point at the user's files, not at the bundle.
process.setSourceMapsEnabled(true);

/** How long a job process whose job ended waits for the callbacks its module left before it exits. */
const EXIT_GRACE_MS = 1000;

let keepAlive: NodeJS.Timeout | undefined;
// A RemoteEnvironment client already ran (and printed) what precedes its pipeline: until that
// pipeline starts, the module's output here is dropped.
const restoreOutput = options.pipelineIndex !== undefined ? muteOutput() : () => {};
const run = new ModuleRun(jobId!, options, {
  send,
  unmute: restoreOutput,
  flush: flushOutput,
  // From the first pipeline on, the job's end (below) lets the process go, not its loop draining.
  keepAlive: () => void (keepAlive ??= setInterval(() => {}, 1 << 30)),
});
installJobProcessHook(run);
if (control) {
  readFrames(control, DEFAULT_MAX_REPORT_BYTES, (message) => run.onSupervisorMessage(message as SupervisorMessage), () => {});
  // The supervisor is gone (the server died; its end of the pipe closed): abort the job, so its
  // services are cleaned up, and leave soon after even if something hangs.
  control.on("close", () => {
    run.onSupervisorMessage({ type: "stop", options: { mode: "abort" } });
    setTimeout(() => process.exit(1), 3000);
  });
}

// What the job started ends with it. Here its children are still linked to this process (after
// the exit they are reparented); the supervisor ends the rest, which it finds by group, session
// or environment.
process.on("exit", () => {
  if (jobId) killJobProcesses(process.pid, jobId);
});

// A job stuck in a synchronous loop cannot run the handler above; a watchdog thread can. When the
// supervisor has been gone for 4 s (longer than the graceful path above takes), it ends the process.
const watchdog = new Worker(
  `const { parentPort } = require("node:worker_threads");
   const parent = process.ppid;
   let missing = 0;
   setInterval(() => {
     missing = process.ppid === parent ? 0 : missing + 1;
     if (missing >= 8) process.kill(process.pid, "SIGKILL");
   }, 500);`,
  { eval: true },
);
watchdog.unref();

if (!jobId || !bundle) {
  process.stderr.write("job process started without SAGE_JOB_ID and SAGE_JOB_BUNDLE\n");
  process.exit(2);
}

// The module ends the job when its code has finished, or (RemoteEnvironment) when its target
// pipeline has: code after that pipeline's submit() runs on the client, not here.
installEnvGuard(process.env[CLIENT_ENV_NAMES]);
const outcome = await Promise.race([
  import(pathToFileURL(bundle).href).then(
    () => ({ failed: false as const }),
    (error: unknown) => ({ failed: true as const, error }),
  ),
  run.ended.then(() => ({ failed: false as const })),
]);
if (outcome.failed) {
  const { error } = outcome;
  restoreOutput();
  await flushOutput();
  send({ type: "module-error", message: messageOf(error), ...(error instanceof Error && error.stack ? { stack: error.stack } : {}) });
  // SAGE's own errors (a failed pipeline, a pipeline the client did not build) reach the client
  // through the job's status, message and stack; anything else is printed to the job's log too.
  if (!isSageError(error)) process.stderr.write(`job module failed: ${error instanceof Error ? (error.stack ?? error.message) : messageOf(error)}\n`);
  run.moduleFailed();
  await Promise.race([run.ended, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
  await flushOutput();
  process.exit(1);
}
// A module that calls env.submit() without awaiting it claims its pipeline a few microtasks later.
await new Promise((resolve) => setImmediate(resolve));
run.moduleFinished();
await run.ended;
// The supervisor ends a module that did not submit as soon as it hears of it: what it printed
// (queued in this process once the output pipe's buffer is full) goes out first.
await flushOutput();
send({ type: "module-done", submitted: run.submitted });
// Callbacks already queued (a sink's deferred print) still run; whatever the module left behind
// (an interval, a socket) must not keep a finished job's process alive.
clearInterval(keepAlive);
setTimeout(() => void flushOutput().then(() => process.exit(0)), EXIT_GRACE_MS).unref();

// Output and reports written so far reach their pipes (process.exit() would drop pending writes).
function flushOutput(): Promise<unknown> {
  return Promise.all([flushStdio(), writer?.flush()]);
}

// One end of the channel to the supervisor; undefined when this process was started without it.
function openPipe(fd: number, direction: "read" | "write"): Socket | undefined {
  try {
    const socket = new Socket({ fd, readable: direction === "read", writable: direction === "write" });
    socket.unref();
    return socket;
  } catch {
    return undefined;
  }
}

