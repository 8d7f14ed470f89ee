// Helpers for tests that run workers as child processes (src/cluster/worker-process.ts) and check
// that every process they started is gone.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { isAlive } from "../../src/cluster/process-alive.js";
import type { WorkerOptions } from "../../src/cluster/worker.js";
import { workerProcessCommand } from "../../src/cluster/worker-process.js";

/** The stand-in for the job host script. */
export const STAND_IN_HOST = fileURLToPath(new URL("./fixtures/stand-in-host.ts", import.meta.url));

/** A worker running as a child process. */
export interface WorkerChild {
  child: ChildProcess;
  pid: number;
  /** Resolves with the joined line; rejects when it exits first. */
  joined: Promise<string>;
  /** Resolves with how it exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): { stdout: string; stderr: string };
}

/** Starts a worker child with these options. */
export function startWorkerChild(options: WorkerOptions): WorkerChild {
  const [command, args] = workerProcessCommand();
  const child = spawn(command, args, { env: { ...process.env, SAGE_WORKER: JSON.stringify(options) }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const joined = new Promise<string>((resolve, reject) => {
    const look = () => {
      const line = stdout.split("\n").find((l) => l.includes(" joined "));
      if (line) resolve(line);
    };
    child.stdout!.on("data", look);
    void exited.then(({ code, signal }) => reject(new Error(`the worker exited (${signal ?? code}) before it joined: ${stderr}`)));
  });
  joined.catch(() => undefined);
  return { child, pid: child.pid!, joined, exited, output: () => ({ stdout, stderr }) };
}

/** Polls until `check` holds (at most `timeoutMs`), then asserts it once more for a readable failure. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(await check()).toBe(true);
}

/** Kills whichever of `pids` still run (after a failed test) and checks they are all gone. */
export async function expectGone(pids: number[]): Promise<void> {
  const alive = pids.filter(isAlive);
  for (const pid of alive) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  await waitUntil(() => pids.every((pid) => !isAlive(pid)), 5000);
  expect(alive, "processes the test left running").toEqual([]);
}

export { isAlive };
