import { dataPaths } from "../jobmanager/paths.js";
import { clientFor, type ServerOptions } from "./cli-options.js";
import { isAlive, readPid, removePid } from "./pid-file.js";

/** What the data dir's pid file and the address say about a JobManager. */
export interface Probe {
  /** The live process the pid file names (a stale pid file is removed). */
  pid?: number;
  /** Whether something answers GET /api/health at host:port. */
  healthy: boolean;
  version?: string;
}

/** Looks for a JobManager of the data dir and at host:port; never throws. */
export async function probeJobManager(options: ServerOptions): Promise<Probe> {
  const file = dataPaths(options.dataDir).pid;
  let pid = readPid(file);
  if (pid !== undefined && !isAlive(pid)) {
    removePid(file, pid);
    pid = undefined;
  }
  try {
    const health = await clientFor(options, undefined, 2000).health();
    return { pid, healthy: health.status === "ok", version: health.version };
  } catch {
    return { pid, healthy: false };
  }
}
