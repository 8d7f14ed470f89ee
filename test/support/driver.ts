/**
 * A driver script run as a child process (the submitting process of a distributed job), with
 * its output lines watched as they come, so a test can strike at a chosen moment of the job.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FIXTURES = fileURLToPath(new URL("../cluster/fixtures/", import.meta.url));

/** How a driver process ended. */
export interface DriverExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the start to the exit. */
  ms: number;
}

/** A running driver script. */
export interface DriverRun {
  child: ChildProcess;
  /** Resolves when it exited (killed after `timeoutMs`). */
  exited: Promise<DriverExit>;
  /** The first stdout line matching `pattern` (now or later); rejects after `timeoutMs` or at exit. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Its stderr so far. */
  stderr(): string;
  /** Resolves when it exited within `ms`; otherwise kills it and rejects with its output (a hang). */
  exitedWithin(ms: number): Promise<DriverExit>;
}

/** Starts fixture `script` (a .ts file under test/cluster/fixtures) with `env` added. */
export function startDriver(script: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): DriverRun {
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURES + script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk;
    for (const wake of waiters) wake();
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  let done = false;
  const exited = new Promise<DriverExit>((resolve) =>
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      // The pipes may still hold the last lines: wait for them to close.
      const finish = () => {
        done = true;
        for (const wake of waiters) wake();
        resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
      };
      if (child.stdout!.readableEnded) finish();
      else child.stdout!.once("close", finish);
    }),
  );
  const line: DriverRun["line"] = (pattern, waitMs = 30_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = stdout.split("\n").find((l) => pattern.test(l));
        if (found !== undefined) {
          cleanup();
          resolve(found);
        } else if (done) {
          cleanup();
          reject(new Error(`the driver exited without printing ${pattern}:\n${stdout}\n${stderr}`));
        }
      };
      const deadline = setTimeout(() => {
        cleanup();
        reject(new Error(`the driver did not print ${pattern} within ${waitMs} ms:\n${stdout}\n${stderr}`));
      }, waitMs);
      const cleanup = () => {
        clearTimeout(deadline);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const exitedWithin = async (ms: number): Promise<DriverExit> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
    const first = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (first !== "late") return first;
    child.kill("SIGKILL");
    const exit = await exited;
    throw new Error(`the driver did not end within ${ms} ms (a hang):\n${exit.stdout.split("\n").filter((l) => !l.startsWith("PROGRESS")).join("\n")}\n${exit.stderr}`);
  };
  return { child, exited, line, stderr: () => stderr, exitedWithin };
}

/** The JSON after `tag ` on the last line of `stdout` that starts with it. */
export function tagged<T>(stdout: string, tag: string): T | undefined {
  const found = stdout.split("\n").filter((l) => l.startsWith(`${tag} `)).at(-1);
  return found === undefined ? undefined : (JSON.parse(found.slice(tag.length + 1)) as T);
}

/** The parent pid of `pid` (from /proc), or undefined once it is gone. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** The running child processes of `pid` (from /proc). */
export function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((child) => parentOf(child) === pid && running(child));
}

/**
 * Whether process `pid` runs: a zombie has ended (an orphan waits for the init process to reap
 * it, which may take a while).
 */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Resolves once `check()` holds (polled every 50 ms); rejects with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}
