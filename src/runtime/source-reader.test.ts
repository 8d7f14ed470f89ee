import { describe, expect, it } from "vitest";
import { detachedContext } from "../api/context.js";
import { BatchFunction, END_OF_STREAM, SourceFunction, type EndOfStream } from "../index.js";
import { DONE, IDLE, MORE, SourceReader, type Pulled } from "./source-reader.js";

const ctx = detachedContext("Src_0");

function reader(kind: "batch" | "source", definition: unknown, args?: unknown[], stop = new AbortController().signal): SourceReader {
  return new SourceReader(kind, definition, args, ctx, stop);
}

/** Pulls until DONE (or `limit` pulls), returning every pull. */
async function pullAll(source: SourceReader, max: number, limit = 100): Promise<Pulled[]> {
  const pulls: Pulled[] = [];
  for (let i = 0; i < limit; i++) {
    const pulled = await source.pull(max);
    pulls.push(pulled);
    if (pulled.status === DONE) return pulls;
  }
  throw new Error(`source not done after ${limit} pulls`);
}

const records = (pulls: Pulled[]): unknown[] => pulls.flatMap((p) => p.records);

class Countdown extends BatchFunction<number> {
  #left: number;
  constructor(from: number) {
    super();
    this.#left = from;
  }
  execute(): number | null {
    return this.#left > 0 ? this.#left-- : this.#left === 0 ? (this.#left--, 0) : null;
  }
}

class AsyncLetters extends BatchFunction<string> {
  #letters = ["a", "b", "c"];
  async execute(): Promise<string | undefined> {
    await Promise.resolve();
    return this.#letters.shift();
  }
}

/** A SourceFunction that returns a scripted sequence, then END_OF_STREAM. */
function scripted(steps: Array<unknown>, async: boolean) {
  return class Scripted extends SourceFunction<unknown> {
    #i = 0;
    execute(): unknown {
      const value = this.#i < steps.length ? steps[this.#i++] : END_OF_STREAM;
      return async ? Promise.resolve(value) : value;
    }
  } as unknown as new () => SourceFunction<unknown>;
}

describe("SourceReader", () => {
  it.each<{ max: number; batches: unknown[][]; statuses: symbol[] }>([
    { max: 2, batches: [[1, 2], [3, 4], [5]], statuses: [MORE, MORE, DONE] },
    { max: 5, batches: [[1, 2, 3, 4, 5]], statuses: [DONE] },
    { max: 100, batches: [[1, 2, 3, 4, 5]], statuses: [DONE] },
  ])("reads an array in batches of at most $max", async ({ max, batches, statuses }) => {
    const pulls = await pullAll(reader("batch", [1, 2, 3, 4, 5]), max);

    expect(pulls.map((p) => p.records)).toEqual(batches);
    expect(pulls.map((p) => p.status)).toEqual(statuses);
  });

  it("answers an array synchronously", () => {
    expect(reader("batch", [1]).pull(10)).toEqual({ records: [1], status: DONE });
  });

  it("finishes an empty array at once", () => {
    expect(reader("batch", []).pull(10)).toEqual({ records: [], status: DONE });
  });

  it("treats null, 0, empty string, false and undefined inside an array as records", async () => {
    const items = [null, 0, "", false, undefined, NaN, "end"];

    const pulls = await pullAll(reader("batch", items), 2);

    expect(records(pulls)).toEqual(items);
    expect(pulls.at(-1)!.status).toBe(DONE);
  });

  it("reads a sync iterable in batches, synchronously", () => {
    const source = reader("batch", new Set(["a", "b", "c"]));

    expect(source.pull(2)).toEqual({ records: ["a", "b"], status: MORE });
    expect(source.pull(2)).toEqual({ records: ["c"], status: DONE });
  });

  it("reads a generator function, passing it the context", async () => {
    let seen: unknown;
    function* numbers(c: unknown) {
      seen = c;
      yield 0;
      yield null;
      yield false;
      yield 3;
    }

    const pulls = await pullAll(reader("batch", numbers), 3);

    expect(seen).toBe(ctx);
    expect(pulls.map((p) => p.records)).toEqual([[0, null, false], [3]]);
    expect(pulls.map((p) => p.status)).toEqual([MORE, DONE]);
  });

  it("reads a plain function that returns an iterable", async () => {
    expect(records(await pullAll(reader("batch", () => ["x", "y"]), 10))).toEqual(["x", "y"]);
  });

  it("reads an async generator in batches that respect max", async () => {
    async function* letters() {
      for (const l of "abcde") yield l;
    }

    const pulls = await pullAll(reader("batch", letters), 2);

    expect(pulls.map((p) => p.records)).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(pulls.map((p) => p.status)).toEqual([MORE, MORE, DONE]);
  });

  it("reads an async iterable object", async () => {
    const iterable = {
      async *[Symbol.asyncIterator]() {
        yield 1;
        yield 0;
        yield null;
      },
    };

    expect(records(await pullAll(reader("source", iterable), 10))).toEqual([1, 0, null]);
  });

  it("hands over the records of a slow async source when the event loop turns instead of waiting for a full batch", async () => {
    // The third record comes when the test lets it, not after 20 ms: a process descheduled that
    // long could find the timer due before the turn of the loop, and the first pull took all three.
    let release!: () => void;
    const later = new Promise<void>((resolve) => (release = resolve));
    async function* slow() {
      yield 1;
      yield 2;
      await later;
      yield 3;
    }
    const source = reader("batch", slow);

    // A reader waiting for a full batch would wait for ever here.
    const first = await Promise.race([source.pull(100), new Promise((resolve) => setTimeout(resolve, 5000, "still waiting").unref())]);
    expect(first).toEqual({ records: [1, 2], status: MORE });
    release();
    const rest = await pullAll(source, 100);
    expect(records(rest)).toEqual([3]);
  });

  it("ends a pull waiting on an async source when the stop signal fires", async () => {
    const stop = new AbortController();
    const source = reader("source", async function* () {
      yield 1;
      await new Promise(() => undefined);
    }, undefined, stop.signal);
    expect(await source.pull(1)).toEqual({ records: [1], status: MORE });

    const waiting = source.pull(10);
    stop.abort();

    expect(await waiting).toEqual({ records: [], status: DONE });
  });

  it("reads a BatchFunction class with a sync execute until it returns null, keeping 0 as a record", async () => {
    const source = reader("batch", Countdown, [3]);

    const pulls = await pullAll(source, 2);

    expect(pulls.map((p) => p.records)).toEqual([[3, 2], [1, 0], []]);
    expect(pulls.map((p) => p.status)).toEqual([MORE, MORE, DONE]);
    expect(source.hooks).toBeInstanceOf(Countdown);
  });

  it("reads a BatchFunction class with an async execute until it returns undefined", async () => {
    const pulls = await pullAll(reader("batch", AsyncLetters), 2);

    expect(records(pulls)).toEqual(["a", "b", "c"]);
    expect(pulls.every((p) => p.records.length <= 2)).toBe(true);
    expect(pulls.at(-1)!.status).toBe(DONE);
  });

  it("constructs a source class with the context visible in its constructor", () => {
    let seenName: string | undefined;
    class Named extends BatchFunction<string> {
      constructor() {
        super();
        seenName = this.ctx.name;
      }
      execute(): null {
        return null;
      }
    }

    reader("batch", Named);

    expect(seenName).toBe("Src_0");
  });

  it.each([false, true])("reports IDLE when a SourceFunction returns nothing (async: %s)", async (async) => {
    const source = reader("source", scripted([1, 2, undefined, 3, undefined, undefined, 4], async));

    const pulls = await pullAll(source, 10);

    expect(pulls.map((p) => [p.records, p.status])).toEqual([
      [[1, 2], IDLE],
      [[3], IDLE],
      [[], IDLE],
      [[4], DONE],
    ]);
  });

  it.each([false, true])("reports DONE when a SourceFunction returns END_OF_STREAM (async: %s)", async (async) => {
    const source = reader("source", scripted([0, false, ""], async));

    const pulls = await pullAll(source, 10);

    expect(records(pulls)).toEqual([0, false, ""]);
    expect(pulls.at(-1)!.status).toBe(DONE);
  });

  it("respects max for a SourceFunction that always has a record", () => {
    class Forever extends SourceFunction<number> {
      #n = 0;
      execute(): number | EndOfStream {
        return this.#n++;
      }
    }
    const source = reader("source", Forever);

    expect(source.pull(3)).toEqual({ records: [0, 1, 2], status: MORE });
    expect(source.pull(2)).toEqual({ records: [3, 4], status: MORE });
  });

  it("runs a generator's finally block when disposed", async () => {
    let cleaned = false;
    function* numbers() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        cleaned = true;
      }
    }
    const source = reader("source", numbers);
    expect((await source.pull(2)).records).toEqual([0, 1]);

    source.dispose();

    expect(cleaned).toBe(true);
  });

  it("rejects a function that returns something other than an iterable", () => {
    expect(() => reader("batch", () => 42)).toThrow(TypeError);
    expect(() => reader("batch", () => 42)).toThrow(/must return an iterable or async iterable, got number/);
  });
});
