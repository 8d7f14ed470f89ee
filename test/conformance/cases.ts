/**
 * Pipeline conformance cases: each declares a pipeline on a given environment and sends its
 * results to `emit`. The same cases run in every mode (local, remote, distributed); only where
 * `emit` delivers the results differs.
 */
import {
  BaseService,
  CoMapFunction,
  END_OF_STREAM,
  FlatMapFunction,
  JoinFunction,
  MapFunction,
  SourceFunction,
  type BaseEnvironment,
  type Collector,
} from "../../src/index.js";

/** Sends one result record out of the pipeline (a sink function). */
export type Emit = (record: unknown) => void;

/** One conformance case. */
export interface PipelineCase {
  name: string;
  /** Declares the pipeline on `env`; results go to `emit`. */
  build(env: BaseEnvironment, emit: Emit): void;
  /** The expected results; compared after sorting unless `ordered`. */
  expected?: unknown[];
  ordered?: boolean;
  /** A custom check of the results, for properties a fixed list cannot express. */
  check?(results: unknown[]): void;
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Doubler extends MapFunction<number, number> {
  constructor(private readonly factor: number) {
    super();
  }
  execute(x: number) {
    return x * this.factor;
  }
}

class Words extends FlatMapFunction<string, string> {
  execute(line: string, out: Collector<string>) {
    for (const word of line.split(" ")) out.collect(word);
  }
}

class Pair extends CoMapFunction<string> {
  map0(x: number) {
    return `a${x}`;
  }
  map1(x: number) {
    return `b${x}`;
  }
  map2(x: number) {
    return `c${x}`;
  }
}

/** Buffers both sides per key and emits every match, whichever side arrives first. */
class UserOrderJoin extends JoinFunction {
  readonly #users = new Map<number, string>();
  readonly #orders = new Map<number, string[]>();
  execute(payload: { id: number; name?: string; item?: string }, key: number, tag: number) {
    if (tag === 0) {
      this.#users.set(key, payload.name!);
      const waiting = this.#orders.get(key) ?? [];
      this.#orders.delete(key);
      return waiting.map((item) => `${payload.name}:${item}`);
    }
    const user = this.#users.get(key);
    if (user !== undefined) return [`${user}:${payload.item}`];
    this.#orders.set(key, [...(this.#orders.get(key) ?? []), payload.item!]);
    return [];
  }
}

class Countdown extends SourceFunction<number> {
  #next = 5;
  #idle = true;
  execute() {
    // Alternate "no record now" with records, then end the stream itself.
    this.#idle = !this.#idle;
    if (this.#idle) return undefined;
    return this.#next === 0 ? END_OF_STREAM : this.#next--;
  }
}

class Counter extends BaseService {
  count = 0;
  inc(by: number) {
    return (this.count += by);
  }
  async slowInc(by: number) {
    await sleep(1);
    return (this.count += by);
  }
}

/** The shared cases. */
export const pipelineCases: PipelineCase[] = [
  {
    name: "map, filter and sink with plain functions",
    build: (env, emit) => env.fromBatch(range(10)).map((x) => x + 1).filter((x) => x % 2 === 0).sink(emit),
    expected: [2, 4, 6, 8, 10],
    ordered: true,
  },
  {
    name: "function classes get their constructor args",
    build: (env, emit) => env.fromBatch([1, 2, 3]).map(Doubler, { args: [10] }).sink(emit),
    expected: [10, 20, 30],
    ordered: true,
  },
  {
    name: "null-looking values inside a batch are records, not its end",
    build: (env, emit) => env.fromBatch([1, null, 0, "", false, Number.NaN, 2]).sink(emit),
    expected: [1, null, 0, "", false, Number.NaN, 2],
    ordered: true,
  },
  {
    name: "flatMap expands arrays, generators and collectors, and keeps strings whole",
    build: (env, emit) => {
      env.fromBatch(["a b", "c"]).flatMap(Words).sink(emit);
      env.fromBatch([2]).flatMap(function* (n: number) {
        for (let i = 0; i < n; i++) yield `g${i}`;
      }).sink(emit);
      env.fromBatch(["whole"]).flatMap((s: string) => [s] as Iterable<string>).sink(emit);
      env.fromBatch([1]).flatMap(async function* () {
        yield "async1";
        yield "async2";
      }).sink(emit);
    },
    expected: ["a", "b", "c", "g0", "g1", "whole", "async1", "async2"],
  },
  {
    name: "sources of unequal length into coMap lose nothing",
    build: (env, emit) => {
      const short = env.fromBatch([1, 2, 3]);
      const long = env.fromBatch(range(1000));
      const slow = env.fromBatch(async function* () {
        for (let i = 0; i < 5; i++) {
          await sleep(2);
          yield i;
        }
      });
      short.connect(long).connect(slow).coMap(Pair).sink(emit);
    },
    expected: [...[1, 2, 3].map((x) => `a${x}`), ...range(1000).map((x) => `b${x}`), ...range(5).map((x) => `c${x}`)],
  },
  {
    name: "several sources into one sink lose nothing",
    build: (env, emit) => {
      const a = env.fromBatch(range(3));
      const b = env.fromBatch(async function* () {
        await sleep(5);
        yield 100;
        await sleep(5);
        yield 101;
      });
      a.connect(b).sink(emit);
    },
    expected: [0, 1, 2, 100, 101],
  },
  {
    name: "join works whatever its sources are called",
    build: (env, emit) => {
      const users = env.fromBatch([{ id: 1, name: "ann" }, { id: 2, name: "bob" }], { name: "users" });
      const orders = env.fromBatch(
        [{ id: 2, item: "pen" }, { id: 1, item: "cup" }, { id: 2, item: "ink" }, { id: 3, item: "lost" }],
        { name: "orders" },
      );
      users.keyBy((u) => u.id).connect(orders.keyBy((o) => o.id)).join(UserOrderJoin, { parallelism: 2 }).sink(emit);
    },
    expected: ["ann:cup", "bob:ink", "bob:pen"],
  },
  {
    name: "keyBy sends equal keys, falsy ones included, to one instance",
    build: (env, emit) => {
      const keys = [0, "", false, null, 1, "a", 0, "", false, null, 1, "a"];
      env
        .fromBatch(keys.map((key, i) => ({ key, i })))
        .keyBy((r) => r.key)
        .map((r, ctx) => ({ key: r.key, instance: ctx.instanceIndex }), { parallelism: 4 })
        .sink(emit);
    },
    check(results) {
      const placed = new Map<string, Set<number>>();
      for (const { key, instance } of results as Array<{ key: unknown; instance: number }>) {
        const name = JSON.stringify(key) ?? "undefined";
        placed.set(name, (placed.get(name) ?? new Set()).add(instance));
      }
      if (results.length !== 12) throw new Error(`expected 12 records, got ${results.length}`);
      for (const [key, instances] of placed) {
        if (instances.size !== 1) throw new Error(`key ${key} reached instances ${[...instances].join(", ")}`);
      }
    },
  },
  {
    name: "parallel operators deliver every record exactly once",
    build: (env, emit) =>
      env
        .fromCollection(range(5000))
        .map((x) => x * 2, { parallelism: 3 })
        .filter((x) => x % 3 !== 0, { parallelism: 2 })
        .sink(emit, { parallelism: 2 }),
    expected: range(5000).map((x) => x * 2).filter((x) => x % 3 !== 0),
  },
  {
    name: "an async map with concurrency keeps input order",
    build: (env, emit) =>
      env
        .fromBatch(range(200))
        .map(async (x: number) => {
          await sleep((x * 7) % 5);
          return x;
        }, { concurrency: 16 })
        .sink(emit),
    expected: range(200),
    ordered: true,
  },
  {
    name: "a SourceFunction that returns END_OF_STREAM ends the job",
    build: (env, emit) => env.fromSource(Countdown).sink(emit),
    expected: [5, 4, 3, 2, 1],
    ordered: true,
  },
  {
    name: "an unbounded async iterable that returns ends the job",
    build: (env, emit) =>
      env.fromSource(async function* () {
        yield "x";
        await sleep(3);
        yield "y";
      }).sink(emit),
    expected: ["x", "y"],
    ordered: true,
  },
  {
    name: "a feedback loop ends when outside input ended and nothing is in flight",
    build: (env, emit) => {
      const feedback = env.fromFuture<number>("feedback");
      const step = env.fromBatch([0, 100]).connect(feedback).coMap([(x: number) => x, (x: number) => x]).map((x: number) => x + 1);
      step.sink(emit);
      step.filter((x: number) => x % 100 < 5).fillFuture(feedback);
    },
    expected: [1, 2, 3, 4, 5, 101, 102, 103, 104, 105],
  },
  {
    name: "services answer sync and async calls, one at a time",
    build: (env, emit) => {
      env.registerService("counter", Counter);
      env
        .fromBatch(range(20))
        .map(async (x: number, ctx) => {
          const counter = ctx.service<Counter>("counter");
          return x % 2 === 0 ? counter.slowInc(1) : counter.inc(1);
        }, { concurrency: 4 })
        .sink(emit);
    },
    // Calls run one at a time, so every increment sees a distinct count and none is lost.
    expected: range(20, 1),
  },
];
