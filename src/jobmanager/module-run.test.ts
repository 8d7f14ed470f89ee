import { describe, expect, it } from "vitest";
import type { HookedPipeline } from "../api/executor.js";
import type { JobEvent, JobState, JobStatus } from "../api/types.js";
import { EventStream } from "../runtime/event-stream.js";
import { ModuleRun } from "./module-run.js";
import { statusRegression } from "./status-transitions.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A pipeline that keeps one service until released; `releaseMs` is how long the release takes. */
class KeepingPipeline {
  readonly id = "p";
  services = 1;
  state: JobState = "running";
  readonly stream = new EventStream<JobEvent>();
  readonly startedAt = new Date().toISOString();
  constructor(private readonly releaseMs = 0) {}
  snapshot(): JobStatus {
    const ended = this.state !== "running";
    return {
      id: "p", name: "p", state: this.state, autostop: true, platform: "remote", submittedAt: this.startedAt, startedAt: this.startedAt,
      ...(ended && { endedAt: new Date().toISOString() }), runtimeMs: 1, restartCount: 0, tasks: 0, services: this.services, isRunning: !ended, operators: [],
      serviceDetails: [{ name: "kv", state: this.services > 0 ? "running" : "stopped", remote: false, calls: 0 }],
    } as JobStatus;
  }
  events(): AsyncIterable<JobEvent> {
    return this.stream;
  }
  async stop(): Promise<JobStatus> {
    return this.snapshot();
  }
  async release(): Promise<void> {
    await sleep(this.releaseMs);
    this.services = 0;
  }
  end(state: JobState): void {
    this.state = state;
    this.stream.push({ type: "state", jobId: "p", state, at: new Date().toISOString(), status: this.snapshot() });
    this.stream.close();
  }
}

/** A module run whose reports go to a server-side check, as the supervisor makes it. */
function runWith(options: { pipelineIndex?: number; flushMs?: number }) {
  const sent: Array<{ type: string; status: JobStatus; rejected?: string }> = [];
  let accepted: JobStatus | undefined;
  const run = new ModuleRun("job1", { keepServices: true, ...(options.pipelineIndex !== undefined && { pipelineIndex: options.pipelineIndex }) }, {
    send(message) {
      if (message.type !== "event" || message.event.type === "log") return;
      const { status } = message.event;
      const rejected = accepted ? statusRegression(accepted, status) : undefined;
      sent.push({ type: message.event.type, status, ...(rejected && { rejected }) });
      if (!rejected) accepted = status;
    },
    unmute() {},
    flush: () => sleep(options.flushMs ?? 0),
    keepAlive() {},
  });
  return { run, sent };
}

describe("ModuleRun - services a finished job keeps", () => {
  it("samples them each second until released, then never again, even when the release came while the end was still being reported", async () => {
    const { run, sent } = runWith({ pipelineIndex: 0, flushMs: 200 });
    run.beginPipeline();
    const pipeline = new KeepingPipeline(300);
    run.attach(pipeline as unknown as HookedPipeline);
    await sleep(10);
    pipeline.end("finished");
    // `sage job stop` (a release) while the terminal report still waits for the output's flush.
    await sleep(50);
    run.onSupervisorMessage({ type: "stop", options: { mode: "abort" } });
    await run.ended;
    const atRelease = sent.length;
    await sleep(1500);
    expect(sent.length).toBe(atRelease);
    expect(sent.at(-1)).toMatchObject({ type: "state", status: { state: "finished", services: 0 } });
    expect(sent.filter((report) => report.rejected)).toEqual([]);
  });

  it("a whole module's release keeps the job's own end: its state (stopped between pipelines), end time and runtime", async () => {
    const { run, sent } = runWith({});
    run.beginPipeline();
    const pipeline = new KeepingPipeline();
    run.attach(pipeline as unknown as HookedPipeline);
    await sleep(5);
    pipeline.end("finished");
    await sleep(5);
    // Stopped while the module's code runs on after its pipeline: the job ends 'stopped', its services kept.
    run.onSupervisorMessage({ type: "stop", options: {} });
    await sleep(1200);
    run.onSupervisorMessage({ type: "stop", options: {} }); // the release
    await run.ended;
    const final = sent.find((report) => report.type === "state" && report.status.state === "stopped")!.status;
    expect(final.services).toBe(1);
    expect(sent.filter((report) => report.type === "metrics").length).toBeGreaterThan(0);
    // The release was refused by the server before ('stopped' cannot become 'finished'), and moved the end.
    expect(sent.filter((report) => report.rejected)).toEqual([]);
    expect(sent.at(-1)!.status).toMatchObject({ state: "stopped", services: 0, endedAt: final.endedAt, runtimeMs: final.runtimeMs });
  });
});
