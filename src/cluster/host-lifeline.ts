import { fstatSync } from "node:fs";
import { exitAfterOutput } from "./exit-after-output.js";
import { JOB_MARKER, killDescendants, killJobProcesses } from "./process-tree.js";

/** How long a job host whose worker is gone may take to tear its job down before it exits anyway. */
export const ORPHAN_GRACE_MS = 2000;

/**
 * A job host's ties to its worker. The worker ends a host with SIGTERM: the job is torn down here
 * (services cleaned up) before the process exits, and the worker kills what is left after its
 * grace. A worker that died (SIGKILL, a crash) cannot do either: its end closes the host's stdin,
 * a pipe it never writes, so the host tears down by itself within ORPHAN_GRACE_MS and ends the
 * processes it started; the driver places its instances elsewhere meanwhile.
 */
export function tieToWorker(
  end: () => Promise<void>,
  /** Whether the job is already ending here (the driver said so): then a SIGTERM is expected, not news. */
  ending: () => boolean = () => false,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): void {
  // Whatever the job started goes with the host when no worker is left to end it (the host's
  // marker is its own, see hostMarker()). While the worker lives (still this process's parent), it
  // ends what is left by marker, group and session once this process is gone: here only what it
  // could not find then, the descendants reparented by this exit (the full search reads every
  // process's environment, 5-15 ms on autostop's path).
  const marker = process.env[JOB_MARKER];
  const worker = process.ppid;
  if (marker) process.on("exit", () => (process.ppid === worker ? killDescendants(process.pid) : killJobProcesses(process.pid, marker)));
  const leave = (why: string | undefined, graceMs: number | undefined) => {
    if (why !== undefined && !ending()) log(`sage job host: ${why}: ending the job here`);
    if (graceMs !== undefined) setTimeout(() => process.exit(1), graceMs).unref();
    void end().finally(() => exitAfterOutput(0));
  };
  // SIGTERM is how a worker ends a host (the job's end, its lease, the worker leaving): the worker says why, not the host.
  process.once("SIGTERM", () => leave(undefined, undefined));
  if (!stdinIsPipe()) return;
  process.stdin.on("data", () => undefined);
  process.stdin.on("error", () => undefined);
  process.stdin.once("end", () => {
    // Nobody reads this process's output any more: a write to it must not crash the teardown.
    for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
    leave("the worker is gone (its pipe closed)", ORPHAN_GRACE_MS);
  });
}

// Only a pipe from the worker says anything by closing (a terminal or /dev/null does not); Node's
// child process pipes are socket pairs.
function stdinIsPipe(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}
