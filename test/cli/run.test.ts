import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePrometheus } from "../support/prometheus.js";
import { eventually, sage, type SageRun } from "./sage-cli.js";

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
    expect(stderr).toMatch(/\n {4}at .*test\/fixtures\/cli-pipeline\.ts:\d+:\d+\)?\n {4}\.\.\. \(\d+ framework frames? hidden; SAGE_STACK=full shows them\)\n/);
    expect(stderr).not.toMatch(/[\\/](src|dist)[\\/]runtime[\\/]|eval at|node:internal/);
  });

  it("does not say a job started when its setup failed", async () => {
    const { code, stderr } = await sageRun([fixture], "setup-fails").done;
    expect(code).toBe(1);
    expect(stderr).not.toContain("started");
    expect(stderr).toMatch(/\[sage\] job cli-setup-fails \(\w{8}\) failed: service 'db' failed to start: cannot connect\n/);
    expect(stderr.split("cannot connect")).toHaveLength(2);
    // The setup's own line (the runtime's wrapper of the error had none of the user's).
    expect(stderr).toMatch(/\n {4}at Unreachable\.setup \(.*test\/fixtures\/cli-pipeline\.ts:\d+:\d+\)\n/);
  });

  it("a malformed pipeline names the problem once, then the user's line that declared it, not the framework's checks", async () => {
    const { code, stderr } = await sageRun([fixture], "malformed").done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/^sage run test\/fixtures\/cli-pipeline\.ts failed: PipelineDefinitionError: operator 'map#1' needs a function or a function class, got number\n {4}at .*test\/fixtures\/cli-pipeline\.ts:\d+:\d+\)?\n {4}\.\.\. \(\d+ framework frames? hidden; SAGE_STACK=full shows them\)\n/);
    expect(stderr.split("needs a function")).toHaveLength(2);
    expect(stderr).not.toMatch(/[\\/](src|dist)[\\/]api[\\/]|DataStream|node:internal/);
  });

  it("bad submit options name the problem and the user's line; the command's own frames below it (commander, bin/sage.js) are counted, not shown", async () => {
    const { code, stderr } = await sageRun([fixture], "bad-options").done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/failed: PipelineDefinitionError: [^\n]*timeoutMs must be [^\n]*-5\n {4}at .*test\/fixtures\/cli-pipeline\.ts:\d+:\d+\)?\n {4}\.\.\. \(\d+ framework frames? hidden; SAGE_STACK=full shows them\)\n/);
    expect(stderr).not.toMatch(/commander|bin[\\/]sage\.js/);
  });

  it("a usage error prints the error and a one-line hint, not the whole help that pushed it out of sight", async () => {
    for (const args of [["run"], ["job", "sumbit", "x.ts"], ["jobmanager", "start", "--port", "70000"]]) {
      const { code, stderr } = await sage(args).done;
      expect(code, args.join(" ")).not.toBe(0);
      expect(stderr, args.join(" ")).toMatch(/^error: [^\n]+\n(\(Did you mean submit\?\)\n)?\(add --help for usage\)\n$/);
    }
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

  it("serves the running job's Prometheus metrics with --metrics-port 0, then closes them and exits by itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sage-run-metrics-"));
    try {
      const gate = join(dir, "gate");
      const run = sage(["run", "--metrics-port", "0", fixture], { SAGE_FIXTURE_MODE: "gated", SAGE_FIXTURE_GATE: gate });
      await until(run, /\[sage\] job cli-gated \((\w{8})\) started/);
      const url = /\[sage\] metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)\n/.exec(run.output().stderr)?.[1];
      expect(url).toBeDefined();
      const shortId = /job cli-gated \((\w{8})\)/.exec(run.output().stderr)![1]!;

      // The source has sent its three records and waits for the gate: the counts hold still.
      let families: ReturnType<typeof parsePrometheus> = new Map();
      const value = (name: string, labels: Record<string, string> = {}) =>
        families.get(name)?.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)).map((m) => Number(m.value));
      await eventually(async () => {
        const response = await fetch(url!);
        families = parsePrometheus(await response.text());
        return response.status === 200 && value("sage_operator_records_in_total", { operator: "Drop" })?.[0] === 3;
      });
      const [state] = families.get("sage_job_state")!.metrics;
      expect(state!.labels).toEqual({ job: expect.stringMatching(new RegExp(`^${shortId}-`)), job_name: "cli-gated", state: "running" });
      expect(value("sage_jobs", { state: "running" })).toEqual([1]);
      expect(value("sage_operator_records_out_total", { operator: "Gated", kind: "batch" })).toEqual([3]);
      expect(value("sage_operator_records_in_total", { operator: "Echo", kind: "map" })).toEqual([3]);
      expect(value("sage_operator_records_out_total", { operator: "Echo" })).toEqual([3]);
      expect(value("sage_operator_errors_total", { operator: "Echo" })).toEqual([0]);
      expect(value("sage_service_calls_total", { service: "resource", job_name: "cli-gated" })).toEqual([3]);
      expect(value("sage_service_up", { service: "resource" })).toEqual([1]);
      expect(value("sage_job_tasks")![0]).toBeGreaterThan(0);
      // The JobManager's own gauges are not a local run's.
      expect(families.has("sage_job_processes")).toBe(false);
      expect(families.has("sage_jobmanager_uptime_seconds")).toBe(false);
      expect((await fetch(url!.replace("/metrics", "/other"))).status).toBe(404);

      writeFileSync(gate, "");
      const { code, stdout } = await run.done;
      expect(code).toBe(0);
      expect(stdout).toBe("resource cleaned up\nsubmit returned\n");
      await expect(fetch(url!)).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a bad --metrics-port, --metrics-host without a port, and a port in use, before the file runs", async () => {
    const bad = await sageRun(["--metrics-port", "70000", fixture], "finite").done;
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("expected an integer from 0 to 65535");
    const hostOnly = await sageRun(["--metrics-host", "127.0.0.1", fixture], "finite").done;
    expect(hostOnly.code).toBe(2);
    expect(hostOnly.stderr).toContain("--metrics-host needs --metrics-port (E_NO_METRICS_PORT)");
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = squatter.address() as { port: number };
      const taken = await sageRun(["--metrics-port", String(port), fixture], "finite").done;
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain(`cannot serve metrics on 127.0.0.1:${port}: the address is already in use (E_ADDRESS_IN_USE)`);
      expect(taken.stdout).toBe("");
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
