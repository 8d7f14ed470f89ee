import { describe, expect, it, vi } from "vitest";
import { LocalEnvironment, PipelineDefinitionError, SinkFunction } from "../../src/index.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quiet = { logLevel: "silent" as const };
/**
 * Waits until `check` holds. A test that stops a job once something is in flight waits for that,
 * not a fixed time: a descheduled process fires the timer before the pipeline got as far.
 */
const until = (check: () => boolean) => vi.waitFor(() => expect(check()).toBe(true), { timeout: 10_000, interval: 2 });

const endless = async function* () {
  for (let i = 0; ; i++) {
    await sleep(1);
    yield i;
  }
};

class ClosingSink extends SinkFunction<number> {
  static seen: number[] = [];
  static closed = false;
  execute(x: number) {
    ClosingSink.seen.push(x);
  }
  close() {
    ClosingSink.closed = true;
  }
}

describe("local mode - stop", () => {
  it("drains: the source stops, in-flight records complete, close() runs, services are cleaned", async () => {
    ClosingSink.seen = [];
    ClosingSink.closed = false;
    let cleaned = false;
    const env = new LocalEnvironment("drain", quiet);
    env.registerService("svc", () => ({ cleanup: () => void (cleaned = true) }));
    env.fromSource(endless).map(async (x: number) => {
      await sleep(3);
      return x;
    }, { concurrency: 4 }).sink(ClosingSink);
    const job = await env.submit();
    await until(() => ClosingSink.seen.length > 0);
    await sleep(20);
    const status = await job.stop();
    expect(status).toMatchObject({ state: "stopped", tasks: 0, services: 0, isRunning: false });
    expect(ClosingSink.closed).toBe(true);
    expect(cleaned).toBe(true);
    // Drain completes what was in flight: the sink saw a gap-free prefix of the source.
    const seen = ClosingSink.seen;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual(seen.map((_, i) => i));
  });

  it("aborts: ctx.signal fires for in-flight calls and the job stops without waiting for them", async () => {
    let aborted = false;
    let called = false;
    const env = new LocalEnvironment("abort", quiet);
    env.fromBatch([1, 2, 3]).map((x: number, ctx) =>
      new Promise((resolve) => {
        called = true;
        // Never resolves by itself: only the abort signal ends it.
        ctx.signal.addEventListener("abort", () => {
          aborted = true;
          resolve(x);
        });
      }),
    ).sink(() => {});
    const job = await env.submit();
    await until(() => called);
    const started = performance.now();
    const status = await job.stop({ mode: "abort" });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(aborted).toBe(true);
    expect(status).toMatchObject({ state: "stopped", tasks: 0, services: 0 });
  });

  it("turns a drain that cannot finish into an abort after the grace period", async () => {
    const env = new LocalEnvironment("stuck", { ...quiet, abortGraceMs: 200 });
    let called = false;
    env.fromBatch([1]).map(() => ((called = true), new Promise(() => {})), { name: "Hangs" }).sink(() => {});
    const job = await env.submit();
    await until(() => called);
    const started = performance.now();
    const status = await job.stop({ graceMs: 100 });
    const took = performance.now() - started;
    expect(status.state).toBe("stopped");
    expect(status.tasks).toBe(0);
    expect(took).toBeGreaterThanOrEqual(90);
    expect(took).toBeLessThan(4000);
  });

  it("env.stop() stops the submitted job and env.close() is safe to repeat", async () => {
    const env = new LocalEnvironment("env-stop", quiet);
    env.fromSource(endless).sink(() => {});
    await env.submit();
    await sleep(10);
    const status = await env.stop();
    expect(status).toMatchObject({ state: "stopped", tasks: 0, services: 0 });
    await env.close();
    await env.close();
  });

  it("a job can be submitted again from the same environment after it ended", async () => {
    const results: number[] = [];
    const env = new LocalEnvironment("again", quiet);
    env.fromBatch([1, 2]).sink((x: number) => void results.push(x));
    const first = await env.submit({ autostop: true });
    const second = await env.submit({ autostop: true });
    expect(first.id).not.toBe(second.id);
    expect(env.jobId).toBe(second.id);
    expect(results).toEqual([1, 2, 1, 2]);
  });
});

describe("local mode - nothing runs after the end", () => {
  // An in-flight map finished 2.7 s after "stopped" and the sink still received its record.
  it("invokes no user function and sinks nothing once an abort is reported stopped", async () => {
    const calls: Array<{ what: string; at: number }> = [];
    const note = (what: string) => calls.push({ what, at: performance.now() });
    class Closing extends SinkFunction<number> {
      execute(x: number) {
        note(`sink ${x}`);
      }
      close() {
        note("close sink");
      }
    }
    const env = new LocalEnvironment("abort-then-quiet", quiet);
    env
      .fromBatch([1, 2, 3])
      .map(async (x: number) => {
        note(`map ${x}`);
        await sleep(x === 1 ? 0 : 300); // ignores ctx.signal
        return x;
      })
      .filter((x: number) => {
        note(`filter ${x}`);
        return true;
      })
      .sink(Closing);
    const job = await env.submit();
    await until(() => calls.some((c) => c.what === "map 2")); // in its 300 ms
    const status = await job.stop({ mode: "abort" });
    const stoppedAt = performance.now();
    expect(status.state).toBe("stopped");
    await sleep(500);
    expect(calls.filter((c) => c.at > stoppedAt)).toEqual([]);
    expect(calls.map((c) => c.what)).toEqual(["map 1", "filter 1", "sink 1", "map 2", "close sink"]);
  });

  it("ends an abort promptly even when in-flight calls ignore ctx.signal, and still cleans services", async () => {
    let cleaned = false;
    let called = false;
    const env = new LocalEnvironment("abort-prompt", quiet);
    env.registerService("svc", () => ({ cleanup: () => void (cleaned = true) }));
    env.fromBatch([1]).map(() => ((called = true), new Promise(() => {}))).sink(() => {});
    const job = await env.submit();
    await until(() => called);
    const started = performance.now();
    const status = await job.stop({ mode: "abort" });
    // Waiting for the call would take the abort grace (2 s); a loaded machine adds its own delay.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(status).toMatchObject({ state: "stopped", tasks: 0, services: 0 });
    expect(cleaned).toBe(true);
  });
});

describe("local mode - one job per environment", () => {
  // Both ran the pipeline: 10 records sunk for 5.
  it("refuses a second submit while the first one starts, naming the environment and the job", async () => {
    const env = new LocalEnvironment("twice", quiet);
    const seen: number[] = [];
    env.fromBatch([1, 2, 3, 4, 5]).sink(async (x: number) => {
      await sleep(1);
      seen.push(x);
    });
    const [first, second] = await Promise.allSettled([env.submit({ autostop: true }), env.submit({ autostop: true })]);
    expect(first.status).toBe("fulfilled");
    expect(second.status).toBe("rejected");
    const error = (second as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(PipelineDefinitionError);
    expect(error.message).toBe(`environment 'twice' already runs job ${env.jobId}; stop it or wait for it first`);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  // env.stop() rejected "has no submitted job to stop", and the job went on running.
  it("env.stop() while services set up stops that job; its submit ends as stopped", async () => {
    let cleaned = false;
    let settingUp = false;
    let sunk = 0;
    const env = new LocalEnvironment("stop-in-setup", quiet);
    env.registerService("slow", () => ({ setup: () => ((settingUp = true), sleep(500)), cleanup: () => void (cleaned = true) }));
    env.fromSource(endless).sink(() => void sunk++);
    const submitted = env.submit({ autostop: true });
    await until(() => settingUp);
    const started = performance.now();
    const status = await env.stop();
    expect(status).toMatchObject({ state: "stopped", tasks: 0, services: 0 });
    expect(performance.now() - started).toBeLessThan(1500);
    const job = await submitted;
    expect((await job.status()).state).toBe("stopped");
    expect(job.id).toBe(env.jobId);
    expect(cleaned).toBe(true);
    expect(sunk).toBe(0);
  });
});

describe("local mode - stop without a job", () => {
  it("env.stop() before any submit names the problem; env.close() is fine", async () => {
    const env = new LocalEnvironment("never-submitted", { logLevel: "silent" });
    await expect(env.stop()).rejects.toThrow("environment 'never-submitted' has no submitted job to stop");
    await env.close();
  });
});
