import { describe, expect, it } from "vitest";
import { sage, type SageRun } from "./sage-cli.js";

const fixture = "test/fixtures/cli-pipeline.ts";

type Run = SageRun;

/** Starts `sage run <file>` with no terminal (plain log lines). The bin needs `npm run build`. */
function sageRun(args: string[], mode: string): Run {
  return sage(["run", ...args], { SAGE_FIXTURE_MODE: mode });
}

async function until(run: Run, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 400 && !pattern.test(run.output().stderr); i++) await new Promise((r) => setTimeout(r, 25));
  expect(run.output().stderr).toMatch(pattern);
}

describe("sage run", () => {
  it("runs a TypeScript pipeline file and logs per-operator lines without a terminal", async () => {
    const { code, stdout, stderr } = await sageRun([fixture], "finite").done;
    expect(code).toBe(0);
    expect(stdout).toBe("out: 1\nout: 2\nout: 3\nresource cleaned up\nsubmit returned\n");
    expect(stderr).toMatch(/\[sage\] job cli-finite \(\w{8}\) started: batch#0, map#1, Print/);
    expect(stderr).toMatch(/\[sage\] job cli-finite \(\w{8}\) finished in/);
    expect(stderr).toMatch(/\[sage\]\s+map#1\s+map\s+in 3\s+out 3/);
  });

  it("exits 1 and names the operator when the job fails", async () => {
    const { code, stderr } = await sageRun([fixture], "failing").done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/failed in \d+ms: Breaks: deliberate failure/);
    // Once, then the user's frames; the runtime's and the generated code's are counted, not shown.
    expect(stderr.split("deliberate failure")).toHaveLength(2);
    expect(stderr).toMatch(/\n {4}at .*test\/fixtures\/cli-pipeline\.ts:\d+:\d+\)?\n {4}\.\.\. \(\d+ framework frames? hidden\)\n/);
    expect(stderr).not.toMatch(/[\\/](src|dist)[\\/]runtime[\\/]|eval at|node:internal/);
  });

  it("does not say a job started when its setup failed", async () => {
    const { code, stderr } = await sageRun([fixture], "setup-fails").done;
    expect(code).toBe(1);
    expect(stderr).not.toContain("started");
    expect(stderr).toMatch(/\[sage\] job cli-setup-fails \(\w{8}\) failed: service 'db' failed to start: cannot connect\n/);
    expect(stderr.split("cannot connect")).toHaveLength(2);
  });

  it("exits 2 with a clear message for a missing file", async () => {
    const { code, stderr } = await sageRun(["nowhere.ts"], "finite").done;
    expect(code).toBe(2);
    expect(stderr).toContain("no such pipeline file: nowhere.ts (E_FILE_NOT_FOUND)");
  });

  it("drains on Ctrl-C: services are cleaned up and submit returns", async () => {
    const run = sageRun([fixture], "endless");
    await until(run, /started/);
    run.child.kill("SIGINT");
    const { code, stdout, stderr } = await run.done;
    expect(stderr).toContain("stopping: draining jobs");
    expect(stderr).toMatch(/job cli-endless \(\w{8}\) stopped/);
    expect(stdout).toBe("resource cleaned up\nsubmit returned\n");
    expect(code).toBe(130);
  });

  it("aborts on a second Ctrl-C when a drain is stuck", async () => {
    const run = sageRun([fixture], "stuck");
    await until(run, /started/);
    run.child.kill("SIGINT");
    await until(run, /stopping/);
    run.child.kill("SIGINT");
    const { code, stdout, stderr } = await run.done;
    expect(stderr).toContain("aborting jobs");
    expect(stdout).toContain("resource cleaned up");
    expect(code).toBe(130);
  });
});
