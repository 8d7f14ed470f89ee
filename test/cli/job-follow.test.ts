/**
 * `sage job submit` following its job against real JobManagers: every line of the job's output is
 * printed, once, in order, before the summary; a frozen server is waited for; what the server
 * names (jobs, errors) reaches the terminal without its control characters.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleEntry } from "../../src/cluster/bundle.js";
import { JobManagerClient } from "../../src/jobmanager/client.js";
import { readToken } from "../../src/jobmanager/paths.js";
import { killPids, leftoverJobProcesses } from "../remote/helpers.js";
import { eventually, isAlive, jobManagerSlot, sage, sageDone } from "./sage-cli.js";

const lines = "test/fixtures/job-lines.ts";
const root = new URL("../..", import.meta.url).pathname;

let slot: Awaited<ReturnType<typeof jobManagerSlot>>;
let serverPid: number;
let token: string;

beforeAll(async () => {
  slot = await jobManagerSlot();
  const started = await sageDone(["jobmanager", "start", ...slot.options]);
  expect(started.code).toBe(0);
  serverPid = slot.pid()!;
  token = readToken(slot.dataDir)!;
});

afterAll(async () => {
  await sageDone(["jobmanager", "stop", ...slot.options]);
  expect(isAlive(serverPid)).toBe(false);
  await slot.cleanup([serverPid]);
});

/** Runs `sage ...args` with stdout and stderr into one file, as `2>&1` does: the order they were written in. */
async function merged(args: string[]): Promise<{ code: number | null; text: string }> {
  const dir = mkdtempSync(join(tmpdir(), "sage-merged-"));
  const file = join(dir, "out");
  const fd = openSync(file, "w");
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, SAGE_HOME: join(tmpdir(), "sage-cli-test-home") };
    delete env.SAGE_TOKEN;
    const child = spawn(process.execPath, ["bin/sage.js", ...args], { cwd: root, env, stdio: ["ignore", fd, fd] });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    return { code, text: readFileSync(file, "utf8") };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("sage job submit - following the job", () => {
  it("prints all 20,000 lines of a fast job, in order", async () => {
    const run = sage(["job", "submit", lines, "--env", "LINES=20000", ...slot.options]);
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(0);
    const printed = stdout.split("\n").slice(0, -1);
    expect(printed.length).toBe(20_000);
    expect(printed).toEqual(Array.from({ length: 20_000 }, (_, i) => `line ${i}`));
    expect(stderr).not.toContain("dropped");
  }, 60_000);

  it("prints the job's output first, then its summary", async () => {
    const { code, text } = await merged(["job", "submit", lines, "--env", "LINES=5", ...slot.options]);
    expect(code, text).toBe(0);
    const rows = text.split("\n");
    const lastLine = rows.indexOf("line 4");
    const summary = rows.findIndex((row) => /\[sage\] job job-lines \(\w{8}\) finished in/.test(row));
    expect(lastLine, text).toBeGreaterThan(0);
    expect(summary, text).toBeGreaterThan(lastLine);
  });

  it("the --no-wait hint names --token (never the token) when the token came from --token", async () => {
    const { code, stdout } = await sageDone(["job", "submit", lines, "--no-wait", "--token", token, ...slot.options]);
    expect(code).toBe(0);
    expect(stdout).not.toContain(token);
    expect(stdout).toMatch(/follow it with: sage job watch \w{8} --port \d+ --data-dir \S+ --token <token>/);
    // Without --token (the data dir's token), the hint works as printed.
    expect((await sageDone(["job", "submit", lines, "--no-wait", ...slot.options])).stdout).not.toContain("--token");
  });

  it("list and show print server-given names without their control characters, and cut long ones in the list", async () => {
    const client = new JobManagerClient({ port: slot.port, token });
    const evil = "evil\n21:00:00.000 INFO  jobmanager: FORGED\u001b[31m\u009b2J\u007f";
    const bundled = await bundleEntry(join(root, lines));
    const submitted = await client.submitJob({ name: evil, code: bundled });
    const long = await client.submitJob({ name: "x".repeat(80), code: bundled });
    await eventually(async () => (await client.getJob(submitted.id)).state === "finished", 15_000);

    const list = await sageDone(["job", "list", ...slot.options]);
    expect(list.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(list.stdout).toContain("evil\\n21:00:00.000 INFO  jobmanager: FORGED\\x1b[31m\\u009b2J\\x7f".slice(0, 39));
    expect(list.stdout.split("\n").filter((row) => row.includes("evil"))).toHaveLength(1);
    expect(list.stdout).toContain(`${"x".repeat(39)}…`);
    expect(list.stdout).not.toContain("x".repeat(40));
    // The NAME column is at most 40 wide: the header's STATE starts within 8 + 2 + 40 + 2 columns.
    expect(list.stdout.split("\n")[0]!.indexOf("STATE")).toBeLessThanOrEqual(52);

    const show = await sageDone(["job", "show", submitted.id, ...slot.options]);
    expect(show.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(show.stdout).toContain("name       evil\\n21:00:00.000 INFO  jobmanager: FORGED\\x1b[31m\\u009b2J\\x7f\n");
    expect((await sageDone(["job", "show", long.id, ...slot.options])).stdout).toContain(`name       ${"x".repeat(80)}\n`);
  }, 30_000);
});

describe("sage job submit - a frozen JobManager", () => {
  // A real server in its own process, frozen with SIGSTOP past its keep-alive and heartbeat timeouts.
  it("keeps following through the freeze and prints every line and the end", async () => {
    const frozenSlot = await jobManagerSlot();
    const run = sage(["jobmanager", "start", "--foreground", ...frozenSlot.options], { SAGE_TOKEN: "frozen-test-token" });
    const pid = run.child.pid!;
    let stopped = false;
    let submit: ReturnType<typeof sage> | undefined;
    try {
      await eventually(() => /listening/.test(run.output().stderr), 15_000);
      submit = sage(["job", "submit", lines, "--env", "LINES=24", "--env", "LINE_MS=250", "--token", "frozen-test-token", "--port", String(frozenSlot.port), "--data-dir", frozenSlot.dataDir]);
      await eventually(() => submit!.output().stdout.includes("line 3\n"), 15_000);
      process.kill(pid, "SIGSTOP");
      stopped = true;
      await new Promise((resolve) => setTimeout(resolve, 7000));
      process.kill(pid, "SIGCONT");
      stopped = false;
      const { code, stdout, stderr } = await submit.done;
      expect(stderr).not.toContain("no JobManager answers");
      expect(stdout.split("\n").slice(0, -1)).toEqual(Array.from({ length: 24 }, (_, i) => `line ${i}`));
      expect(stderr).toMatch(/\[sage\] job job-lines \(\w{8}\) finished in/);
      expect(code, stderr).toBe(0);
    } finally {
      if (stopped) process.kill(pid, "SIGCONT");
      submit?.child.kill("SIGKILL");
      run.child.kill("SIGTERM");
      await run.done;
      const left = await leftoverJobProcesses(frozenSlot.dataDir);
      killPids(left);
      await frozenSlot.cleanup([pid]);
      expect(left, "job processes left behind").toEqual([]);
    }
  }, 40_000);
});

describe("sage job logs - a log that rolled over", () => {
  it("says how many of the job's first lines the JobManager no longer keeps", async () => {
    const small = await jobManagerSlot();
    try {
      expect((await sageDone(["jobmanager", "start", ...small.options, "--log-max-bytes", "2000"])).code).toBe(0);
      const submitted = await sageDone(["job", "submit", lines, "--env", "LINES=1000", ...small.options]);
      expect(submitted.code, submitted.stderr).toBe(0);
      const id = /\(([0-9a-f]{8})\)/.exec(submitted.stderr)![1]!;
      const logs = await sageDone(["job", "logs", id, ...small.options]);
      expect(logs.code, logs.stderr).toBe(0);
      const kept = logs.stdout.split("\n").filter(Boolean);
      expect(kept.at(-1)).toBe("line 999");
      expect(logs.stderr).toContain(`[sage] ${1000 - kept.length} lines of the job's output were dropped`);
    } finally {
      await small.cleanup();
    }
  });
});
