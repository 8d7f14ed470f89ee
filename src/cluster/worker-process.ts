/**
 * Entry of a worker run as a child process (the embedded local cluster, tests): WorkerOptions as
 * JSON in SAGE_WORKER; prints the joined line, leaves on SIGINT/SIGTERM, exits non-zero when it
 * cannot join. Spawn it with workerProcessCommand().
 */
import { fileURLToPath } from "node:url";
import { messageOf } from "../api/errors.js";
import { runWorkerUntilSignal } from "./worker-foreground.js";
import type { WorkerOptions } from "./worker.js";

/** The command line that runs a worker child: `[execPath, args]` (with the tsx loader from the sources). */
export function workerProcessCommand(): [string, string[]] {
  const script = workerScript();
  return [process.execPath, [...(script.endsWith(".ts") ? ["--import", "tsx"] : []), script]];
}

// Named from the package's layout, not as this module's own file: built, this code may sit in a shared chunk.
function workerScript(): string {
  return fileURLToPath(new URL(`../cluster/worker-process.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url));
}

if (process.argv[1] && workerScript() === process.argv[1]) {
  try {
    const options = JSON.parse(process.env.SAGE_WORKER ?? "") as WorkerOptions;
    // Job hosts inherit the environment: they get the cluster address their own way.
    delete process.env.SAGE_WORKER;
    process.exitCode = await runWorkerUntilSignal(options);
  } catch (error) {
    process.stderr.write(`sage worker: ${messageOf(error)}\n`);
    process.exitCode = 1;
  }
}
