import { spawn } from "node:child_process";

// A detached watcher: once the process that started it is gone (SIGKILL included, when no exit
// handler runs), it ends the given processes, their groups first, then removes the given directories.
const WATCHER = `
const { readFileSync, rmSync } = require("node:fs");
const [parent, pids, dirs] = JSON.parse(process.argv[1]);
// A zombie (exited, not yet reaped: its new parent may never reap it) counts as gone.
const zombie = (pid) => { try { const stat = readFileSync("/proc/" + pid + "/stat", "utf8"); return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z"); } catch { return false; } };
const alive = (pid) => { try { process.kill(pid, 0); } catch { return false; } return !zombie(pid); };
const end = (signal) => { for (const pid of pids) { try { process.kill(-pid, signal); } catch {} try { process.kill(pid, signal); } catch {} } };
const leave = () => { for (const dir of dirs) { try { rmSync(dir, { recursive: true, force: true }); } catch {} } process.exit(0); };
let ending = false;
setInterval(() => {
  // Gone with their parent (a group kill), or ended here: what they kept goes too.
  if (pids.every((pid) => !alive(pid))) return ending || !alive(parent) ? leave() : process.exit(0);
  if (ending || alive(parent)) return;
  ending = true;
  end("SIGTERM");
  // Directories go only once the processes are gone: one that outlives its SIGKILL keeps them.
  setTimeout(() => { end("SIGKILL"); setTimeout(() => process.exit(0), 5000); }, 2000);
}, 300);`;

/**
 * Makes sure `pids` do not outlive this process: a small detached watcher ends them if this
 * process dies without stopping them, and then removes `dirs` (what they kept on disk for this
 * process only). The returned function cancels the watch (after a clean stop).
 */
export function reapWithThisProcess(pids: readonly number[], dirs: readonly string[] = []): () => void {
  const watcher = spawn(process.execPath, ["-e", WATCHER, JSON.stringify([process.pid, pids, dirs])], { stdio: "ignore", detached: true });
  watcher.unref();
  return () => {
    try {
      watcher.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
}
