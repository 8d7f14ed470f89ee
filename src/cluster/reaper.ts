import { spawn } from "node:child_process";

// A detached watcher: once the process that started it is gone (SIGKILL included, when no exit
// handler runs), it ends the given processes, their groups first.
const WATCHER = `
const [parent, ...pids] = process.argv.slice(1).map(Number);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const end = (signal) => { for (const pid of pids) { try { process.kill(-pid, signal); } catch {} try { process.kill(pid, signal); } catch {} } };
setInterval(() => {
  if (pids.every((pid) => !alive(pid))) process.exit(0);
  if (alive(parent)) return;
  end("SIGTERM");
  setTimeout(() => { end("SIGKILL"); process.exit(0); }, 2000);
}, 300);`;

/**
 * Makes sure `pids` do not outlive this process: a small detached watcher ends them if this
 * process dies without stopping them. The returned function cancels the watch (after a clean stop).
 */
export function reapWithThisProcess(pids: readonly number[]): () => void {
  const watcher = spawn(process.execPath, ["-e", WATCHER, String(process.pid), ...pids.map(String)], { stdio: "ignore", detached: true });
  watcher.unref();
  return () => {
    try {
      watcher.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
}
