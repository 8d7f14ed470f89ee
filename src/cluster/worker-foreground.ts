import { Worker, type WorkerOptions } from "./worker.js";

/**
 * Runs a worker in this process until SIGINT or SIGTERM (then it leaves cleanly: hosts ended,
 * entry deleted); answers the exit code: 0 after a signal, 1 when it had to leave because its name
 * was taken while it was cut off. Rejects when it cannot join (unreachable cluster, name taken).
 * `sayTo` takes the lines about joining and leaving instead of the worker's output.
 */
export async function runWorkerUntilSignal(options: WorkerOptions, sayTo?: (line: string) => void): Promise<number> {
  const worker = new Worker(options);
  // By default in the worker's own log format: in JSON mode these lines are JSON objects too.
  const say = sayTo ?? ((line: string) => worker.log(line));
  await worker.start();
  say(`worker ${worker.name} joined ${worker.url} with ${worker.slots} slot${worker.slots === 1 ? "" : "s"}`);
  const onSignal = (signal: NodeJS.Signals) => {
    say(`worker ${worker.name} received ${signal}: leaving`);
    void worker.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const leave = await worker.left;
    if (leave.reason === "lost") return 1;
    say(`worker ${worker.name} left the cluster`);
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
