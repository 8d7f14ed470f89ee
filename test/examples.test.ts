/**
 * Runs every tutorial in examples/ as its own process and checks its exact stdout: each one
 * must finish by itself (autostop), exit 0 and print deterministic output.
 * Needs `npm run build` first, since the examples import the package by name ("sage").
 */
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isAlive } from "../src/jobmanager/process-alive.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXIT_TIMEOUT_MS = 20_000;

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number | undefined;
}

/** Runs `examples/<file>` with tsx; kills it (and fails) if it does not exit in time. */
function runExample(file: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", `examples/${file}`], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`examples/${file} did not exit within ${EXIT_TIMEOUT_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, EXIT_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // "close" rather than "exit": it fires once the process is gone AND its output is fully read
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, pid: child.pid });
    });
  });
}

/** Joins lines into the text a program prints with one console.log per line. */
const lines = (...text: string[]): string => text.map((line) => `${line}\n`).join("");

const expected: Record<string, string> = {
  "hello_world.ts": lines(
    ...Array.from({ length: 10 }, (_, i) => `HELLO, WORLD! #${i + 1}`),
    "Hello World batch example finished",
  ),
  "hello_service_world.ts": lines(
    "hello_service: setup",
    ...Array.from({ length: 10 }, (_, i) => `hello_service says: Hello, World #${i + 1}!`),
    "hello_service: cleanup after 10 greetings",
    "Hello Service World example finished",
  ),
  "wordcount.ts": lines(
    "WordCount results:",
    "hello: 3",
    "world: 3",
    "sage: 2",
    "ai: 1",
    "chatgpt: 1",
    "of: 1",
    "WordCount batch example finished",
  ),
  "filter.ts": lines(
    "HELLO, WORLD! #1",
    "HELLO, WORLD! #3",
    "HELLO, WORLD! #5",
    "HELLO, WORLD! #7",
    "HELLO, WORLD! #9",
    "Hello Filter World example finished",
  ),
  "flatmap.ts": lines(
    "HELLO,", "WORLD!", "#1",
    "HELLO,", "WORLD!", "#2",
    "HELLO,", "WORLD!", "#3",
    "Hello FlatMap World example finished",
  ),
  "comap.ts": lines(
    "[Stream0] No.1: Hello",
    "[Stream0] No.2: Hello",
    "[Stream0] No.3: Hello",
    "[Stream0] No.4: Hello",
    "[Stream0] No.5: Hello",
    "[Stream1] World! #1",
    "[Stream1] World! #2",
    "[Stream1] World! #3",
    "[Stream1] World! #4",
    "[Stream1] World! #5",
    "Hello CoMap World example finished",
  ),
  "comap_three_inputs.ts": lines(
    "Stream-0 (fruit): Apple",
    "Stream-0 (fruit): Banana",
    "Stream-1 (animal): Cat",
    "Stream-1 (animal): Dog",
    "Stream-2 (color): Blue",
    "Stream-2 (color): Green",
    "Stream-2 (color): Red",
    "Stream-2 (color): Yellow",
    "8 records received",
    "Three Input CoMap example finished",
  ),
  "join.ts": lines(
    "order-1: bob ordered a keyboard",
    "order-2: alice ordered a book",
    "order-3: carol ordered a lamp",
    "order-4: alice ordered a pen",
    "Hello Join World example finished",
  ),
  "connected_streams.ts": lines(
    ...[
      "EVEN -> 2", "EVEN -> 4", "EVEN -> 6", "EVEN -> 8", "EVEN -> 10",
      "LARGE -> 6", "LARGE -> 7", "LARGE -> 8", "LARGE -> 9", "LARGE -> 10",
      "MULTIPLE_3 -> 3", "MULTIPLE_3 -> 6", "MULTIPLE_3 -> 9",
      "ODD -> 1", "ODD -> 3", "ODD -> 5", "ODD -> 7", "ODD -> 9",
    ].map((record) => `[FinalSink_0] Received: Processed: ${record}`),
    "Connected Streams example finished",
  ),
  "future.ts": lines(
    "seed: 0",
    "count: 1",
    "feedback: 1",
    "count: 2",
    "feedback: 2",
    "count: 3",
    "feedback: 3",
    "count: 4",
    "feedback: 4",
    "count: 5, target reached",
    "Future Stream example finished",
  ),
  "parallelism.ts": lines(
    "even squares: 4, 16, 36, 64, 100",
    "flow: 2 records, seen by 1 instance",
    "join: 1 record, seen by 1 instance",
    "llm: 2 records, seen by 1 instance",
    "map: 1 record, seen by 1 instance",
    "sage: 4 records, seen by 1 instance",
    "Parallelism example finished",
  ),
};

describe("examples", () => {
  for (const [file, output] of Object.entries(expected)) {
    it(`examples/${file} exits by itself with the expected output`, async () => {
      const result = await runExample(file);
      expect(result.signal, `stderr:\n${result.stderr}`).toBeNull();
      expect(result.code, `stderr:\n${result.stderr}`).toBe(0);
      expect(result.stdout).toBe(output);
      // the process is gone, not just quiet: nothing of the example keeps running
      expect(result.pid).toBeDefined();
      expect(isAlive(result.pid!)).toBe(false);
    });
  }
});
