/** The orchestrator side: runs one variant in a fresh child process and parses its result. */
import { spawn } from "node:child_process";
import { RESULT_MARKER, type ChildOptions } from "./child.js";
import type { VariantResult } from "./types.js";

/** Runs `bench/run.ts --child <id>` with this process's Node flags; rejects on failure or timeout. */
export function runChild(script: string, variantId: string, options: ChildOptions, timeoutMs: number): Promise<VariantResult> {
  const args = [...process.execArgv, script, "--child", variantId, `--scale=${options.scale}`];
  if (options.httpPort !== undefined) args.push(`--port=${options.httpPort}`);
  if (options.repeats !== undefined) args.push(`--repeats=${options.repeats}`);
  if (options.cold) args.push("--cold");
  return new Promise((resolve, reject) => {
    // Pinned, the JIT compiler's thread shares the main thread's CPU instead of waiting for another one.
    const [command, argv] = options.pin === undefined ? [process.execPath, args] : ["taskset", ["-c", String(options.pin), process.execPath, ...args]];
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${variantId}: no result within ${timeoutMs} ms, child killed`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${variantId}: child exited with ${signal ?? `code ${code}`}${line === undefined ? " and no result" : ""}`));
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as VariantResult);
    });
  });
}
