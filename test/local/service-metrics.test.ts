/**
 * Local mode - services publish their own counters: sampled into serviceDetails[].metrics by
 * job.status(), by the periodic metrics events and by the final status (sampled after cleanup(),
 * the service gone by then); a broken metrics() never breaks a snapshot.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { BaseService, LocalEnvironment, type JobEvent, type JobStatus } from "../../src/index.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts what it answers, both ways a service can: BaseService's helper and its own metrics(). */
class Tokens extends BaseService {
  #chars = 0;
  async count(text: string): Promise<number> {
    this.incrementMetric("requests");
    this.#chars += text.length;
    await sleep(20);
    return text.length;
  }
  metrics() {
    return { chars: this.#chars };
  }
  cleanup() {
    this.incrementMetric("flushes");
  }
}

const metricsOf = (status: JobStatus, name = "tokens") => status.serviceDetails?.find((s) => s.name === name)?.metrics;

describe("local mode - service metrics", () => {
  afterEach(() => vi.restoreAllMocks());

  it("shows a service's counters in events during the run, in status() and in the final status", async () => {
    const env = new LocalEnvironment("metrics", { logLevel: "silent", metricsIntervalMs: 50 });
    env.registerService("tokens", Tokens);
    const words = Array.from({ length: 20 }, (_, i) => "w".repeat(i + 1));
    env.fromBatch(words).map(async (w: string, ctx) => ctx.service<Tokens>("tokens").count(w)).sink(() => {});
    const job = await env.submit();
    const seen: Array<Record<string, number> | undefined> = [];
    let last: JobEvent | undefined;
    const during = await (async () => {
      await sleep(150);
      return job.status();
    })();
    for await (const event of job.events()) {
      if (event.type === "metrics") seen.push(metricsOf(event.status));
      last = event;
    }
    // About 400 ms of 20 ms calls, sampled every 50 ms: several growing values, none final yet.
    const requests = seen.map((m) => m?.requests ?? 0);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(requests).toEqual([...requests].sort((a, b) => a - b));
    expect(requests.some((n) => n > 0 && n < 20)).toBe(true);
    expect(metricsOf(during)!.requests).toBeGreaterThan(0);
    expect(metricsOf(during)!.requests).toBeLessThan(20);
    expect(metricsOf(during)).not.toHaveProperty("flushes");
    // The final status: every request, the characters (1 + ... + 20) and what cleanup() counted.
    const final = await job.wait();
    const expected = { requests: 20, chars: 210, flushes: 1 };
    expect(metricsOf(final)).toEqual(expected);
    expect(last?.type === "state" && metricsOf(last.status)).toEqual(expected);
    expect(final.serviceDetails).toMatchObject([{ name: "tokens", state: "stopped", remote: false, calls: 20, metrics: expected, errors: 0, inFlight: 0, queued: 0 }]);
    expect(metricsOf(await job.status())).toEqual(expected);
  });

  it("a throwing metrics() is said once and left out; the job and its status go on", async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (lines.push(String(chunk)), true));
    let broken = 0;
    class Broken extends BaseService {
      ping(): number {
        this.incrementMetric("pings");
        return 1;
      }
      metrics(): Record<string, number> {
        broken++;
        throw new Error("no counters here");
      }
    }
    const env = new LocalEnvironment("broken-metrics", { logLevel: "warn", metricsIntervalMs: 20 });
    env.registerService("broken", Broken);
    env.fromBatch(async function* () {
      for (let i = 0; i < 10; i++) {
        await sleep(15);
        yield i;
      }
    }).map((x: number, ctx) => ctx.service<Broken>("broken").ping() as number).sink(() => {});
    const job = await env.submit();
    const statuses: JobStatus[] = [];
    for await (const event of job.events()) if (event.type !== "log") statuses.push(event.status);
    const final = await job.wait();
    vi.restoreAllMocks();
    expect(final.state).toBe("finished");
    expect(broken).toBeGreaterThan(3);
    // What it counted with incrementMetric() still shows; its own metrics() is left out.
    expect(final.serviceDetails![0]).toMatchObject({ name: "broken", state: "stopped", remote: false, calls: 10, metrics: { pings: 10 }, errors: 0 });
    const pings = statuses.map((s) => s.serviceDetails![0]!.metrics?.pings ?? 0);
    expect(pings.some((n) => n > 0 && n < 10)).toBe(true);
    const warnings = lines.filter((l) => l.includes("metrics()"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/WARN {2}broken: metrics\(\) threw: no counters here \(said once; the job's status shows the metrics it can\)\n$/);
  });

  it("a status is a copy: changing its metrics does not change the next one", async () => {
    const env = new LocalEnvironment("copy", { logLevel: "silent" });
    env.registerService("tokens", Tokens);
    env.fromBatch(["ab", "cde"]).map(async (w: string, ctx) => ctx.service<Tokens>("tokens").count(w)).sink(() => {});
    const job = await env.submit({ autostop: true });
    const first = await job.status();
    metricsOf(first)!.requests = 99;
    expect(metricsOf(await job.status())).toEqual({ requests: 2, chars: 5, flushes: 1 });
  });
});
