/**
 * The entry of a JobManager job process: evaluates one job module (a bundle) with the job process
 * hook installed, so the module's `env.submit()` runs the pipeline here and reports to the
 * supervisor over IPC. The process exits by itself once the job and the module are done.
 */
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { installJobProcessHook } from "../api/executor.js";
import { messageOf } from "../api/errors.js";
import { killJobProcesses } from "./process-tree.js";
import type { JobProcessMessage } from "./protocol.js";

const jobId = process.env.SAGE_JOB_ID;
const bundle = process.env.SAGE_JOB_BUNDLE;
const options = JSON.parse(process.env.SAGE_JOB_OPTIONS ?? "{}") as { keepServices?: boolean; graphFingerprint?: string };

function send(message: JobProcessMessage): void {
  if (process.connected) process.send!(message);
}

// Bundles carry inline source maps: stacks point at the user's files, not at the bundle.
process.setSourceMapsEnabled(true);

// The IPC channel must not keep the process alive: the running job does, as long as it runs.
process.channel?.unref();

let submitted = false;
installJobProcessHook({
  jobId: jobId!,
  options,
  claim() {
    if (submitted) return false;
    submitted = true;
    return true;
  },
});

// The supervisor is gone (the server died): abort the job, so its services are cleaned up, and
// leave soon after even if something hangs.
process.on("disconnect", () => {
  const emit = process.emit.bind(process) as (event: string, ...args: unknown[]) => boolean;
  emit("message", { type: "stop", options: { mode: "abort" } });
  setTimeout(() => process.exit(1), 3000);
});

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

try {
  await import(pathToFileURL(bundle).href);
  // A module that calls env.submit() without awaiting it claims the job a few microtasks later.
  await new Promise((resolve) => setImmediate(resolve));
  send({ type: "module-done", submitted });
} catch (error) {
  send({ type: "module-error", message: messageOf(error), ...(error instanceof Error && error.stack ? { stack: error.stack } : {}) });
  process.stderr.write(`job module failed: ${error instanceof Error ? (error.stack ?? error.message) : messageOf(error)}\n`);
  process.exitCode = 1;
}
