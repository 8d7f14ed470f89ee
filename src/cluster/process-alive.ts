import { existsSync, readFileSync } from "node:fs";

/** Whether process `pid` exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A process whose parent has not reaped it yet still answers signal 0 as a zombie.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    // Without /proc (macOS) trust signal 0; with it, the process just went away.
    return !existsSync("/proc/self/stat");
  }
}
