import { dataPaths } from "../jobmanager/paths.js";
import type { ServerOptions } from "./cli-options.js";
import { probeJobManager } from "./jobmanager-probe.js";
import { isAlive, readPid, removePid, waitForExit } from "./pid-file.js";

/** How long a stop waits after SIGTERM before it kills. */
const STOP_GRACE_MS = 10_000;

/**
 * `sage jobmanager stop`: SIGTERM to the pid in the data dir's pid file (the server ends its jobs
 * and closes its store), SIGKILL to its process group after the grace period; removes the pid file.
 * Stopping a JobManager that is not running succeeds, so scripts can stop unconditionally; one
 * that answers at the address but is not the data dir's fails, naming the fix.
 */
export async function stopJobManager(options: ServerOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const file = dataPaths(options.dataDir).pid;
  const pid = readPid(file);
  if (pid === undefined || !isAlive(pid)) {
    removePid(file, pid);
    // The pid file is what stop acts on; a server at the address from another data dir is not
    // stopped, and saying "nothing runs" with success would hide it.
    if ((await probeJobManager(options)).healthy) {
      out.write(`a JobManager answers at http://${options.host}:${options.port}, but not from data dir ${options.dataDir}: pass its --data-dir to stop it\n`);
      return 1;
    }
    out.write(`no JobManager running from data dir ${options.dataDir}\n`);
    return 0;
  }
  signal(pid, "SIGTERM");
  if (!(await waitForExit(pid, STOP_GRACE_MS))) {
    out.write(`JobManager (pid ${pid}) did not stop within ${STOP_GRACE_MS / 1000} s: killing it\n`);
    // Its job processes share its process group (it was started detached as the group's leader).
    if (!signal(-pid, "SIGKILL")) signal(pid, "SIGKILL");
    await waitForExit(pid, 5000);
  }
  removePid(file, pid);
  out.write(`JobManager stopped (pid ${pid})\n`);
  return 0;
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}
