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
  const script = fileURLToPath(import.meta.url);
  return [process.execPath, [...(script.endsWith(".ts") ? ["--import", "tsx"] : []), script]];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
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
