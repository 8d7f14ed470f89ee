/**
 * A driver script of a test (a fixture run as its own process, as a user's script runs), watched
 * while it runs: its stdout lines as they come, with the time each came, and its exit.
 */
import { spawn, type ChildProcess } from "node:child_process";

/** A line of the driver's output and when it arrived (Date.now()). */
export interface TimedLine {
  at: number;
  text: string;
}

/** How a driver ended. */
export interface DriverExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A running driver process. */
export interface RunningDriver {
  readonly child: ChildProcess;
  readonly stdout: TimedLine[];
  readonly stderr: TimedLine[];
  /** Resolves with the first stdout line that `match` accepts; rejects after `timeoutMs` or when the driver exits first. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<TimedLine>;
  readonly exited: Promise<DriverExit>;
}

/** Starts `script` (TypeScript, through tsx) with `env` added; SIGKILLed after `timeoutMs`. */
export function startDriver(script: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): RunningDriver {
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const stdout: TimedLine[] = [];
  const stderr: TimedLine[] = [];
  const waiters = new Set<(line: TimedLine) => void>();
  collectLines(child.stdout!, (line) => {
    stdout.push(line);
    for (const waiter of waiters) waiter(line);
  });
  collectLines(child.stderr!, (line) => stderr.push(line));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exited = new Promise<DriverExit>((resolve) =>
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const text = (lines: TimedLine[]) => lines.map((l) => `${l.text}\n`).join("");
      resolve({ code, signal, stdout: text(stdout), stderr: text(stderr), ms: Date.now() - started });
    }),
  );
  const waitForLine: RunningDriver["waitForLine"] = (match, waitMs) =>
    new Promise((resolve, reject) => {
      const found = stdout.find((line) => match(line.text));
      if (found) return resolve(found);
      const done = (error?: Error, line?: TimedLine) => {
        clearTimeout(expiry);
        waiters.delete(waiter);
        if (line) resolve(line);
        else reject(error);
      };
      const waiter = (line: TimedLine) => {
        if (match(line.text)) done(undefined, line);
      };
      const expiry = setTimeout(() => done(new Error(`no such line from the driver within ${waitMs} ms; stderr:\n${stderr.map((l) => l.text).join("\n")}`)), waitMs);
      waiters.add(waiter);
      void exited.then((exit) => done(new Error(`the driver exited (${exit.code ?? exit.signal}) before printing such a line; its last line: ${stdout.at(-1)?.text}\nstderr:\n${exit.stderr}`)));
    });
  return { child, stdout, stderr, waitForLine, exited };
}

function collectLines(stream: NodeJS.ReadableStream, onLine: (line: TimedLine) => void): void {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    const at = Date.now();
    for (const text of parts) onLine({ at, text });
  });
  stream.on("end", () => {
    if (rest !== "") onLine({ at: Date.now(), text: rest });
  });
}
