import { spawn } from "node:child_process";

// A detached watcher: once the process that started it is gone (SIGKILL included, when no exit
// handler runs), it ends the given processes, their groups first, then removes the given directories.
const WATCHER = `
const { rmSync } = require("node:fs");
const [parent, pids, dirs] = JSON.parse(process.argv[1]);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const end = (signal) => { for (const pid of pids) { try { process.kill(-pid, signal); } catch {} try { process.kill(pid, signal); } catch {} } };
const leave = () => { for (const dir of dirs) { try { rmSync(dir, { recursive: true, force: true }); } catch {} } process.exit(0); };
let ending = false;
setInterval(() => {
  if (pids.every((pid) => !alive(pid))) return ending ? leave() : process.exit(0);
  if (ending || alive(parent)) return;
  ending = true;
  end("SIGTERM");
  setTimeout(() => { end("SIGKILL"); setTimeout(leave, 100); }, 2000);
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
