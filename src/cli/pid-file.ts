import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAlive } from "../jobmanager/process-alive.js";

export { isAlive };

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

/** Resolves true once `pid` is gone, false if it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
