import { describe, expect, it, vi } from "vitest";
import {
  BaseService,
  JobFailedError,
  JobTimeoutError,
  LocalEnvironment,
  MapFunction,
  ServiceCallError,
  ServiceCallTimeoutError,
  SinkFunction,
  replyTo,
  type FunctionContext,
  type PipelineService,
  type ServiceRequest,
} from "../../src/index.js";

const quiet = { logLevel: "silent" as const };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits until `check` holds: what a test needs in flight, or to have arrived, rather than a fixed time a descheduled process may spend first. */
const until = (check: () => boolean) => vi.waitFor(() => expect(check()).toBe(true), { timeout: 10_000, interval: 2 });
type Squares = PipelineService<number, number>;

/** fromService(name) -> square each payload after a short, uneven delay -> replyTo(name). */
function serveSquares(env: LocalEnvironment, name: string, options: { parallelism?: number; concurrency?: number; maxPending?: number } = {}) {
  env
    .fromService<number>(name, { ...(options.maxPending !== undefined && { maxPending: options.maxPending }) })
    .map(
      async (request: ServiceRequest<number>) => {
        await sleep((request.payload * 7) % 4);
        return { ...request, payload: request.payload * request.payload };
      },
      { name: "Square", parallelism: options.parallelism ?? 1, concurrency: options.concurrency ?? 8 },
    )
    .sink(replyTo(name));
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe("local mode - pipelines served as services", () => {
  it("answers each caller with its own request's answer, in the caller's order, with concurrency on both sides", async () => {
    const env = new LocalEnvironment("squares", quiet);
    serveSquares(env, "squares", { parallelism: 2, concurrency: 8 });
    const answers: Array<[number, number]> = [];
    env
      .fromBatch(range(200))
      .map(async (n: number, ctx: FunctionContext): Promise<[number, number]> => [n, await ctx.service<Squares>("squares").process(n)], { concurrency: 16 })
      .sink((pair) => void answers.push(pair));

    const job = await env.submit({ autostop: true });

    expect(answers).toEqual(range(200).map((n) => [n, n * n]));
    const status = await job.status();
    expect(status).toMatchObject({ state: "finished", tasks: 0, services: 0, isRunning: false });
    expect(status.serviceDetails).toMatchObject([
      { name: "squares", state: "stopped", remote: false, calls: 200, metrics: { requests: 200, answered: 200, dropped: 0, timedOut: 0, pending: 0, waiting: 0 }, errors: 0, inFlight: 0, queued: 0 },
    ]);
    expect(status.operators.find((op) => op.name === "squares")).toMatchObject({ kind: "source", recordsOut: 200 });
    expect(status.operators.find((op) => op.name === "replyTo(squares)")).toMatchObject({ recordsIn: 200 });
  });

  it("serves many concurrent callers: three pipelines of parallel instances, 3,000 calls", async () => {
    const env = new LocalEnvironment("many-callers", quiet);
    serveSquares(env, "squares", { parallelism: 3, concurrency: 32 });
    const wrong: unknown[] = [];
    let answered = 0;
    for (const from of [0, 1000, 2000]) {
      env
        .fromBatch(range(1000, from))
        .map(async (n: number, ctx: FunctionContext) => [n, await ctx.service<Squares>("squares").process(n)] as const, { parallelism: 2, concurrency: 64 })
        .sink(([n, square]) => {
          answered++;
          if (square !== n * n) wrong.push([n, square]);
        });
    }

    const job = await env.submit({ autostop: true });

    expect(wrong).toEqual([]);
    expect(answered).toBe(3000);
    expect((await job.status()).serviceDetails![0]!.calls).toBe(3000);
  });

  it("answers callers that are services, and pipelines that call another served pipeline", async () => {
    class Relay extends BaseService {
      async forward(n: number): Promise<string> {
        return `relayed ${await this.service<PipelineService<number, string>>("describe").process(n)}`;
      }
    }
    const env = new LocalEnvironment("chained", quiet);
    serveSquares(env, "squares");
    // "describe" is served by a pipeline that calls the "squares" pipeline in turn
    env
      .fromService<number>("describe")
      .map(async (request: ServiceRequest<number>, ctx: FunctionContext) => ({ ...request, payload: `${request.payload}² = ${await ctx.service<Squares>("squares").process(request.payload)}` }))
      .sink(replyTo("describe"));
    env.registerService("relay", Relay);
    const lines: string[] = [];
    env.fromBatch([2, 3]).map((n: number, ctx: FunctionContext) => ctx.callService<string>("relay", "forward", n)).sink((line) => void lines.push(line));

    const job = await env.submit({ autostop: true });

    expect(lines).toEqual(["relayed 2² = 4", "relayed 3² = 9"]);
    expect((await job.status()).state).toBe("finished");
  });

  it("keeps at most maxPending requests inside the pipeline; callers beyond it wait for room", async () => {
    let inside = 0;
    let most = 0;
    const env = new LocalEnvironment("backpressure", quiet);
    env
      .fromService<number>("bounded", { maxPending: 3 })
      .map(
        async (request: ServiceRequest<number>) => {
          most = Math.max(most, ++inside);
          await sleep(3);
          inside--;
          return request;
        },
        { concurrency: 16 },
      )
      .sink(replyTo("bounded"));
    let waitingSeen = 0;
    const answers: number[] = [];
    env
      .fromBatch(range(60))
      .map(
        async (n: number, ctx: FunctionContext) => {
          const service = ctx.service<PipelineService<number, number>>("bounded");
          const answer = service.process(n);
          waitingSeen = Math.max(waitingSeen, (await service.metrics()).waiting!);
          return answer;
        },
        { concurrency: 20 },
      )
      .sink((n) => void answers.push(n));

    await env.submit({ autostop: true });

    expect(answers).toEqual(range(60));
    expect(most).toBe(3); // never more, and the callers' 20 in flight did fill it
    expect(waitingSeen).toBeGreaterThan(0);
  });

  it("rejects a caller that times out with ServiceCallTimeoutError, discards the late answer, and never processes a request still waiting", async () => {
    const seen: number[] = [];
    const env = new LocalEnvironment("timeouts", quiet);
    env
      .fromService<number>("slow", { maxPending: 1 })
      .map(
        async (request: ServiceRequest<number>) => {
          seen.push(request.payload);
          await sleep(request.payload === 1 ? 300 : 1);
          return request;
        },
        { concurrency: 4 },
      )
      .sink(replyTo("slow"));
    const outcomes: unknown[] = [];
    let metrics: Record<string, number> = {};
    class Caller extends MapFunction<number, unknown> {
      async execute(n: number) {
        try {
          return await this.service<PipelineService<number, number>>("slow", { timeoutMs: 100 }).process(n);
        } catch (error) {
          return error;
        }
      }
    }
    class Collect extends SinkFunction<unknown> {
      execute(outcome: unknown) {
        outcomes.push(outcome);
      }
      async close() {
        metrics = await this.service<PipelineService>("slow").metrics();
      }
    }
    env.fromBatch([1, 2]).map(Caller, { concurrency: 2 }).sink(Collect);

    const started = performance.now();
    const job = await env.submit({ autostop: true });
    const elapsed = performance.now() - started;

    expect(outcomes).toHaveLength(2);
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(ServiceCallTimeoutError);
      expect((outcome as Error).message).toBe("call to slow.process() timed out after 100 ms");
    }
    expect(seen).toEqual([1]); // request 2 timed out while it waited for room: nobody processed it
    expect(metrics).toMatchObject({ requests: 2, timedOut: 2, answered: 0, waiting: 0, pending: 1 });
    // the job ends once the abandoned request has left the pipeline (its answer went nowhere)
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect((await job.status()).state).toBe("finished");
  });

  it("times calls out after the service's own timeoutMs when the caller sets none", async () => {
    const env = new LocalEnvironment("service-timeout", quiet);
    env
      .fromService<number>("slow", { timeoutMs: 50 })
      .map(async (request: ServiceRequest<number>) => {
        await sleep(150);
        return request;
      })
      .sink(replyTo("slow"));
    const outcomes: string[] = [];
    env
      .fromBatch([1])
      .map((n: number, ctx: FunctionContext) => Promise.resolve(ctx.callService<number>("slow", "process", n)).then(String, (error: Error) => error.message))
      .sink((x) => void outcomes.push(x));

    await env.submit({ autostop: true });

    expect(outcomes).toEqual(["call to slow.process() timed out after 50 ms"]);
  });

  it("fails the job when processing a request throws, naming the operator, and its waiting callers get the error at once", async () => {
    const env = new LocalEnvironment("failing", quiet);
    env
      .fromService<number>("scores")
      .map(
        async (request: ServiceRequest<number>) => {
          await sleep(1);
          if (request.payload === 3) throw new Error("no score for 3");
          return request;
        },
        { name: "Score", concurrency: 8 },
      )
      .sink(replyTo("scores"));
    const errors: unknown[] = [];
    env
      .fromBatch(range(5, 1))
      .map(
        async (n: number, ctx: FunctionContext) => {
          try {
            return await ctx.service<Squares>("scores").process(n);
          } catch (error) {
            errors.push(error);
            throw error;
          }
        },
        { concurrency: 5 },
      )
      .sink(() => {});

    const started = performance.now();
    const failure = await env.submit({ autostop: true }).catch((error: unknown) => error);
    const elapsed = performance.now() - started;

    expect(failure).toBeInstanceOf(JobFailedError);
    expect((failure as JobFailedError).status.error).toMatchObject({ operator: "Score", message: "no score for 3" });
    expect((failure as JobFailedError).status).toMatchObject({ state: "failed", tasks: 0, services: 0 });
    await until(() => errors.length > 0); // the rejections reach the callers' code in a later turn
    for (const error of errors) {
      expect(error).toBeInstanceOf(ServiceCallError);
      expect((error as Error).message).toBe("scores.process() failed: the job failed in operator 'Score': no score for 3");
    }
    expect(elapsed).toBeLessThan(3000); // not the 30 s call timeout
  });

  it("answers undefined to a request the pipeline drops (filter, map to undefined), and only the first reply to a request counts", async () => {
    const env = new LocalEnvironment("dropping", quiet);
    env
      .fromService<number>("evens")
      .filter((request: ServiceRequest<number>) => request.payload % 2 === 0)
      .map((request: ServiceRequest<number>) => (request.payload === 4 ? undefined : request))
      .flatMap((request) => [request!, { ...request!, payload: -1 }])
      .sink(replyTo("evens", (request: ServiceRequest<number>) => request.payload * 10));
    const answers: unknown[] = [];
    env
      .fromBatch(range(6, 1))
      .map(async (n: number, ctx: FunctionContext) => ({ n, answer: await ctx.service<PipelineService<number, number | undefined>>("evens").process(n) }), { concurrency: 3 })
      .sink((x) => void answers.push(x));

    await env.submit({ autostop: true });

    expect(answers).toEqual([
      { n: 1, answer: undefined },
      { n: 2, answer: 20 },
      { n: 3, answer: undefined },
      { n: 4, answer: undefined },
      { n: 5, answer: undefined },
      { n: 6, answer: 60 },
    ]);
  });

  it("close(): requests sent before are answered, later ones are refused, and the job still finishes", async () => {
    const env = new LocalEnvironment("closing", quiet);
    serveSquares(env, "squares");
    const outcomes: unknown[] = [];
    env
      .fromBatch([1, 2, 3])
      .map(async (n: number, ctx: FunctionContext) => {
        const squares = ctx.service<Squares>("squares");
        const answer = squares.process(n);
        if (n === 1) await squares.close();
        return Promise.resolve(answer).catch((error: Error) => error.message);
      })
      .sink((x) => void outcomes.push(x));

    const job = await env.submit({ autostop: true });

    const refused = "squares.process() failed: service 'squares' is closed: its pipeline takes no more requests";
    expect(outcomes).toEqual([1, refused, refused]);
    expect((await job.status()).state).toBe("finished");
  });

  it("fails the job, with a message naming the fix, when a reply carries no request id", async () => {
    const env = new LocalEnvironment("no-id", quiet);
    env
      .fromService<number>("lossy")
      .map((request: ServiceRequest<number>) => ({ value: request.payload }))
      .sink(replyTo("lossy") as never); // the types refuse it too: this checks the runtime does
    env.fromBatch([1]).map((n: number, ctx: FunctionContext) => ctx.service<Squares>("lossy").process(n)).sink(() => {});

    const failure = (await env.submit({ autostop: true }).catch((error: unknown) => error)) as JobFailedError;

    expect(failure).toBeInstanceOf(JobFailedError);
    expect(failure.status.error?.operator).toBe("replyTo(lossy)");
    expect(failure.status.error?.message).toMatch(/^replyTo\('lossy'\) got a record without its request's id \(an object with value\): keep the `id`/);
  });

  it("a job whose only pipeline is served runs until it is stopped, like an unbounded source", async () => {
    const env = new LocalEnvironment("serve-only", quiet);
    serveSquares(env, "squares");

    await expect(env.submit({ autostop: true, timeoutMs: 150 })).rejects.toBeInstanceOf(JobTimeoutError);
    const job = await env.submit();
    await sleep(100);
    expect((await job.status()).state).toBe("running");
    const status = await env.stop();
    expect(status).toMatchObject({ state: "stopped", tasks: 0, services: 0 });
  });

  it("stop() drains: the callers' sources stop, and the requests they already sent are answered", async () => {
    const env = new LocalEnvironment("drain", quiet);
    env
      .fromService<number>("slow")
      .map(
        async (request: ServiceRequest<number>) => {
          await sleep(60);
          return request;
        },
        { concurrency: 4 },
      )
      .sink(replyTo("slow"));
    let sent = 0;
    const answers: number[] = [];
    env
      .fromSource(async function* () {
        for (let i = 0; ; i++) {
          yield i;
          await sleep(5);
        }
      })
      .map(
        (n: number, ctx: FunctionContext) => {
          sent++;
          return ctx.service<PipelineService<number, number>>("slow").process(n);
        },
        { concurrency: 8 },
      )
      .sink((n) => void answers.push(n));

    const job = await env.submit();
    await until(() => sent > 0);
    await sleep(30);
    const status = await job.stop();

    expect(status).toMatchObject({ state: "stopped", tasks: 0, services: 0 });
    expect(sent).toBeGreaterThan(0);
    expect(answers).toEqual(range(sent));
  });

  it("stop({ mode: 'abort' }) of a job with a request that never completes: its caller gets an error at once", async () => {
    const env = new LocalEnvironment("abort", quiet);
    let received = false;
    env
      .fromService<number>("stuck")
      .map((request: ServiceRequest<number>) => ((received = true), new Promise<ServiceRequest<number>>(() => void request)))
      .sink(replyTo("stuck"));
    const errors: string[] = [];
    env
      .fromBatch([1])
      .map((n: number, ctx: FunctionContext) => (ctx.service<Squares>("stuck").process(n) as Promise<number>).catch((error: Error) => void errors.push(error.message)))
      .sink(() => {});

    const job = await env.submit();
    await until(() => received);
    const started = performance.now();
    const status = await job.stop({ mode: "abort" });
    await until(() => errors.length > 0);

    expect(status).toMatchObject({ state: "stopped", tasks: 0, services: 0 });
    expect(errors).toEqual(["stuck.process() failed: the job was stopped"]);
    expect(performance.now() - started).toBeLessThan(2500);
  });
});
