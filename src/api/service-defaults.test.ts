import { describe, expect, it } from "vitest";
import { BaseService, LocalEnvironment, ServiceFactory, type ServiceOptions } from "../index.js";

/** Counts how many of its calls run at once. */
class Wide extends BaseService {
  static readonly serviceOptions: ServiceOptions = { maxConcurrency: 8, callTimeoutMs: 5000 };
  static active = 0;
  static maxActive = 0;
  async work(x: number): Promise<number> {
    Wide.maxActive = Math.max(Wide.maxActive, ++Wide.active);
    await new Promise((resolve) => setTimeout(resolve, 20));
    Wide.active--;
    return x;
  }
}

describe("a service class's static serviceOptions", () => {
  it("are the defaults of its registration; the registration's own options win", () => {
    expect(new ServiceFactory("w", Wide).options).toEqual({ maxConcurrency: 8, callTimeoutMs: 5000 });
    expect(new ServiceFactory("w", Wide, { maxConcurrency: 2, args: [1] }).options).toEqual({ maxConcurrency: 2, callTimeoutMs: 5000, args: [1] });
    // an option given as undefined keeps the default rather than erasing it
    expect(new ServiceFactory("w", Wide, { maxConcurrency: undefined }).options.maxConcurrency).toBe(8);
    expect(new ServiceFactory("plain", class Plain extends BaseService {}, { maxConcurrency: 3 }).options).toEqual({ maxConcurrency: 3 });
  });

  it("let the mailbox run that many calls at once in a job", async () => {
    Wide.maxActive = 0;
    const env = new LocalEnvironment("wide", { logLevel: "warn" });
    env.registerService("wide", Wide);
    const out: number[] = [];
    env
      .fromBatch(Array.from({ length: 32 }, (_, i) => i))
      .map(async (x: number, ctx) => ctx.service<Wide>("wide").work(x), { concurrency: 16 })
      .sink((x: number) => void out.push(x));
    await env.submit({ autostop: true });
    await env.close();
    expect(out).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(Wide.maxActive).toBe(8);
  });
});
