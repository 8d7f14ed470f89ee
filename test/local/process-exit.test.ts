import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const fixtureUrl = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** Runs the fixture and reports how it ended; kills it (and says so) if it does not exit in time. */
function runFixture(scenario: string, fixture = fixtureUrl("exits-after-autostop.ts")): Promise<{ code: number | null; stdout: string; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture, scenario], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 15_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0 && !killed) reject(new Error(`fixture exited with ${code}: ${stderr}`));
      else resolve({ code, stdout, killed });
    });
  });
}

describe("local mode - the process exits by itself after autostop", () => {
  it.each([
    ["success", "resolved finished tasks=0 services=0"],
    ["failure", "rejected JobFailedError failed tasks=0 services=0"],
    ["timeout", "rejected JobTimeoutError stopped tasks=0 services=0"],
  ])("after %s", async (scenario, line) => {
    const result = await runFixture(scenario);
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(line);
  });
});

describe("local mode - the process exits by itself after a job with a pipeline served as a service", () => {
  it.each([
    ["answered", "resolved finished tasks=0 services=0 answers=1,4,9"],
    ["timed-out", "resolved finished tasks=0 services=0 answers=ServiceCallTimeoutError,ServiceCallTimeoutError,ServiceCallTimeoutError"],
    ["failed", "rejected JobFailedError failed tasks=0 services=0"],
    ["stopped", "stopped stopped tasks=0 services=0"],
  ])("after %s", async (scenario, line) => {
    const result = await runFixture(scenario, fixtureUrl("pipeline-service-exits.ts"));
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(line);
  });
});

describe("local mode - a running job keeps the process alive", () => {
  it("while its records wait on unref'd timers only", async () => {
    const result = await runFixture("", fixtureUrl("stays-alive-unref.ts"));
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe("resolved finished seen=3");
  });
});
