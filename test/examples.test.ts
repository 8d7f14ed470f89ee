/**
 * Runs every tutorial in examples/ as its own process and checks its exact stdout: each one
 * must finish by itself (autostop), exit 0 and print deterministic output.
 * Needs `npm run build` first, since the examples import the package by name ("sage").
 */
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isAlive } from "../src/cluster/process-alive.js";
import { expected } from "./examples-expected.js";

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
