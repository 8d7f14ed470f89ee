import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

/** The pid recorded in `file`, if it holds one. */
export function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Records `pid` in `file` (owner-only). */
export function writePid(file: string, pid: number): void {
  writeFileSync(file, `${pid}\n`, { mode: 0o600 });
}

/** Removes `file`, but only while it still names `pid` (a newer server may have replaced it). */
export function removePid(file: string, pid?: number): void {
  if (pid === undefined || readPid(file) === pid) rmSync(file, { force: true });
}

/** Whether process `pid` exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A detached server outlives the CLI that started it; once it exits, it stays a zombie until
  // its new parent reaps it, and signal 0 still succeeds on a zombie.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    // Without /proc (macOS) trust signal 0; with it, the process just went away.
    return !existsSync("/proc/self/stat");
  }
}

/** Resolves true once `pid` is gone, false if it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
