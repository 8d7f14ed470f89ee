// Helpers for tests that run the built `sage` bin (`npm run build` first) against real JobManagers.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { isAlive, readPid } from "../../src/cli/pid-file.js";
import { dataPaths } from "../../src/jobmanager/paths.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** A running `sage` command. */
export interface SageRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  output(): { stdout: string; stderr: string };
}

/** Starts `node bin/sage.js ...args` with no terminal and no token or home of the user's. */
export function sage(args: string[], env: Record<string, string> = {}): SageRun {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SAGE_HOME: join(tmpdir(), "sage-cli-test-home"), ...env };
  if (!("SAGE_TOKEN" in env)) delete childEnv.SAGE_TOKEN;
  const child = spawn(process.execPath, ["bin/sage.js", ...args], { cwd: root, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** Runs `sage ...args` to its end. */
export function sageDone(args: string[], env?: Record<string, string>) {
  return sage(args, env).done;
}

/** Waits until `check` passes (polling), then asserts it once more for a readable failure. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(await check()).toBe(true);
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A fresh data dir and port for one JobManager, and the options naming them. */
export async function jobManagerSlot() {
  const dataDir = mkdtempSync(join(tmpdir(), "sage-jm-"));
  const port = await freePort();
  return {
    dataDir,
    port,
    options: ["--port", String(port), "--data-dir", dataDir],
    /** The pid the data dir's pid file names. */
    pid: () => readPid(dataPaths(dataDir).pid),
    /** Stops whatever runs on this slot (also after a failed test), checks it is gone, removes the dir. */
    async cleanup(pids: number[] = []) {
      const known = [...pids, this.pid()].filter((pid): pid is number => pid !== undefined);
      await sageDone(["jobmanager", "stop", ...this.options]);
      for (const pid of known) {
        if (isAlive(pid)) process.kill(pid, "SIGKILL");
        await eventually(() => !isAlive(pid), 5000);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export { isAlive };
