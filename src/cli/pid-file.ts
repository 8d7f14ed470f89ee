import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAlive } from "../cluster/process-alive.js";

export { isAlive };

/** The pid recorded in `file`, if it holds one. */
export function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]!.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The address the server of `file` listens on, when it recorded one. */
export function readRecordedAddress(file: string): { host: string; port: number } | undefined {
  if (!existsSync(file)) return undefined;
  const [host, port] = (readFileSync(file, "utf8").split("\n")[1] ?? "").trim().split(" ");
  const number = Number(port);
  return host && Number.isInteger(number) && number > 0 && number < 65536 ? { host, port: number } : undefined;
}

/** Records `pid`, and the address its server listens on, in `file` (owner-only). */
export function writePid(file: string, pid: number, address?: { host: string; port: number }): void {
  writeFileSync(file, `${pid}\n${address ? `${address.host} ${address.port}\n` : ""}`, { mode: 0o600 });
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
