import { readdirSync, readFileSync } from "node:fs";

/**
 * Ending everything a job started. A job process is spawned as the leader of a session and a
 * process group of its own, so its children and their children share its group and session
 * unless they leave them (Node's `detached: true` calls setsid()). Whatever left them still
 * carries the job's marker variable in its environment (every child inherits it unless its
 * spawner replaces the whole environment), and while the job process lives it is their ancestor.
 * Root and non-root alike can read these from /proc for their own processes; on a system without
 * /proc only the process group is reached.
 */

/** The environment variable that marks a job's processes: `SAGE_JOB_ID=<id>`. */
export const JOB_MARKER = "SAGE_JOB_ID";

interface ProcessInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
}

/** The processes that belong to the job led by `leader` (not `leader` itself), found in /proc. */
export function jobProcesses(leader: number, jobId: string): number[] {
  const table = processTable();
  const marker = `${JOB_MARKER}=${jobId}`;
  const found = new Set<number>();
  for (const info of table.values()) {
    if (info.pid === leader || info.pid === process.pid) continue;
    if (info.pgrp === leader || info.session === leader || hasMarker(info.pid, marker)) found.add(info.pid);
  }
  addDescendants(table, leader, found);
  return [...found];
}

/**
 * Kills the descendants of the running process `leader`, found by parent links alone (no
 * environment is read, so it is quick); answers how many. Once `leader` has exited they are
 * reparented and only their marker, group or session finds them (see killJobTree).
 */
export function killDescendants(leader: number): number {
  const found = new Set<number>();
  addDescendants(processTable(), leader, found);
  for (const pid of found) signal(pid, "SIGSTOP");
  for (const pid of found) signal(pid, "SIGKILL");
  return found.size;
}

// Adds the descendants of `leader` and of what `found` holds, by parent links (the leader alive:
// nothing was reparented yet).
function addDescendants(table: Map<number, ProcessInfo>, leader: number, found: Set<number>): void {
  for (let grew = true; grew; ) {
    grew = false;
    for (const info of table.values()) {
      if (!found.has(info.pid) && info.pid !== process.pid && (info.ppid === leader || found.has(info.ppid))) {
        found.add(info.pid);
        grew = true;
      }
    }
  }
}

/**
 * Kills the job process `leader` (unless it has exited already: its pid may be reused), its
 * process group and every process of the job; answers how many besides the leader. The leader
 * is stopped first and the job's processes are listed before any is killed: once a parent dies,
 * its children are reparented and the links that find them are gone.
 */
export function killJobTree(leader: number, jobId: string, leaderAlive = true): number {
  if (leaderAlive) signal(leader, "SIGSTOP");
  const killed = killJobProcesses(leader, jobId);
  signal(-leader, "SIGKILL"); // where there is no /proc to list them
  if (leaderAlive) signal(leader, "SIGKILL");
  return killed;
}

/**
 * Kills every process of the job led by `leader` except `leader` itself (a job process ends what
 * it started as it exits); answers how many. Stops them all first so none forks meanwhile, and
 * looks again while new ones turn up, a few times at most.
 */
export function killJobProcesses(leader: number, jobId: string): number {
  let killed = 0;
  for (let round = 0; round < 5; round++) {
    const pids = jobProcesses(leader, jobId);
    if (pids.length === 0) break;
    for (const pid of pids) signal(pid, "SIGSTOP");
    for (const pid of pids) signal(pid, "SIGKILL");
    killed += pids.length;
  }
  return killed;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already, or not ours
  }
}

function processTable(): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return table; // no /proc: only the process group is reached
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command (which may contain spaces and parentheses): state ppid pgrp session ...
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue; // a zombie is dead already
      table.set(Number(entry), { pid: Number(entry), ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]) });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

function hasMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(marker);
  } catch {
    return false; // gone, or another user's
  }
}
