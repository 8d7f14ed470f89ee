import { END_OF_STREAM } from "../api/end-of-stream.js";
import type { FunctionContext, SourceProgress } from "../api/types.js";
import { isThenable } from "./thenable.js";
import { entryPoint, instantiate, type FunctionHooks } from "./user-function.js";

/** The source is exhausted. */
export const DONE: unique symbol = Symbol("done");
/** The source has no record right now (a SourceFunction returned nothing). */
export const IDLE: unique symbol = Symbol("idle");
/** The source delivered a full batch or the event loop turned; call again. */
export const MORE: unique symbol = Symbol("more");

type ReadResult = unknown; // a record, DONE or IDLE, or a thenable of those
type PullStatus = typeof DONE | typeof IDLE | typeof MORE;

/** A sync source a fused loop can read directly: a BatchFunction instance or a sync iterator. */
export type DirectRead = { kind: "execute"; source: { execute(): unknown } } | { kind: "iterator"; source: Iterator<unknown> };

/** A batch a source delivered and what to do next. */
export interface Pulled {
  records: unknown[];
  status: PullStatus;
}

const TURNED = Symbol("turned");

/**
 * Reads a source of any supported shape in batches. Sync sources fill a batch without awaiting;
 * async ones keep adding records until the batch is full or the event loop turns, so a slow
 * source's records are not held back waiting for a full batch.
 */
export class SourceReader {
  readonly hooks: FunctionHooks | undefined;
  readonly #read: () => ReadResult;
  /**
   * Fills a preallocated batch synchronously and trims it to what it filled; returns a status,
   * or the thenable of the first async record.
   */
  readonly #fill: (max: number, records: unknown[]) => unknown;
  readonly #array: readonly unknown[] | undefined;
  readonly #dispose: (() => void) | undefined;
  #position = 0;
  #carry: unknown;
  #hasCarry = false;
  /** How a fused loop may read this source itself, record by record (sync sources only). */
  readonly direct: DirectRead | undefined;

  constructor(kind: "batch" | "source", definition: unknown, args: readonly unknown[] | undefined, ctx: FunctionContext, private readonly stop: AbortSignal) {
    if (Array.isArray(definition)) {
      this.#array = definition;
      this.#read = () => DONE;
      this.#fill = () => DONE;
      return;
    }
    if (typeof definition === "function") {
      const fn = instantiate(definition, args, ctx);
      if (fn.instance) {
        this.hooks = fn.instance;
        this.#read = kind === "batch" ? batchFunctionReader(entryPoint(fn)) : sourceFunctionReader(entryPoint(fn));
        this.#fill = kind === "batch" ? batchFunctionFiller(fn.instance as { execute(): unknown }) : fillerOf(this.#read);
        if (kind === "batch") this.direct = { kind: "execute", source: fn.instance as { execute(): unknown } };
        return;
      }
      definition = fn.plain!(ctx); // a generator function (or any function returning an iterable)
    }
    const { read, dispose, fill, iterator } = iterableReader(definition);
    this.#read = read;
    this.#fill = fill ?? fillerOf(read);
    this.#dispose = dispose;
    if (iterator) this.direct = { kind: "iterator", source: iterator };
  }

  /** Whether a record is waiting to be awaited (then only `pull` may read on). */
  get carrying(): boolean {
    return this.#hasCarry;
  }

  /** Hands back the thenable of a record a direct reader got, for the next `pull` to await. */
  carry(pending: unknown): void {
    this.#carry = pending;
    this.#hasCarry = true;
  }

  /** Up to `max` records and the source's state after them. */
  pull(max: number): Pulled | Promise<Pulled> {
    if (this.#array) return this.#pullArray(max);
    if (this.#hasCarry) {
      const records: unknown[] = [];
      const carried = this.#carry;
      this.#hasCarry = false;
      this.#carry = undefined;
      return this.#pullAsync(carried, max, records);
    }
    // Preallocated: filling by index is several times cheaper than growing with push.
    const records = new Array<unknown>(max);
    const status = this.#fill(max, records);
    if (isThenable(status)) return this.#pullAsync(status, max, records);
    return { records, status: status as PullStatus };
  }

  /**
   * How far the source has read, when it knows its size: an array's records (`emitted` of them
   * sent on), or what a SourceFunction's own `progress()` method answers ({ done, total, unit }).
   */
  progress(emitted: number): SourceProgress | undefined {
    if (this.#array) return { done: emitted, total: this.#array.length, unit: "records" };
    const own = (this.hooks as { progress?: unknown } | undefined)?.progress;
    if (typeof own !== "function") return undefined;
    try {
      return validProgress(own.call(this.hooks));
    } catch {
      return undefined; // a status must not fail for a report of progress
    }
  }

  /** Lets an iterator-based source release what it holds (e.g. a generator's finally blocks). */
  dispose(): void {
    this.#dispose?.();
  }

  #pullArray(max: number): Pulled {
    const array = this.#array!;
    const end = Math.min(this.#position + max, array.length);
    const records = array.slice(this.#position, end);
    this.#position = end;
    return { records, status: end === array.length ? DONE : MORE };
  }

  async #pullAsync(first: unknown, max: number, records: unknown[]): Promise<Pulled> {
    let immediate: NodeJS.Immediate | undefined;
    const turned = new Promise<typeof TURNED>((resolve) => (immediate = setImmediate(resolve, TURNED)));
    // Per pull, and removed after it: a long-lived promise raced per record would leak reactions.
    let onStop: (() => void) | undefined;
    const stopped = new Promise<typeof DONE>((resolve) => {
      onStop = () => resolve(DONE);
      if (this.stop.aborted) onStop();
      else this.stop.addEventListener("abort", onStop, { once: true });
    });
    try {
      let pending: unknown = first;
      for (;;) {
        // With records in hand, stop waiting once the event loop turned: flush them now.
        const value = await Promise.race(records.length === 0 ? [pending, stopped] : [pending, turned, stopped]);
        if (value === TURNED) {
          this.#carry = pending;
          this.#hasCarry = true;
          return { records, status: MORE };
        }
        if (value === DONE || value === IDLE) return { records, status: value };
        records.push(value);
        if (records.length >= max) return { records, status: MORE };
        pending = this.#read();
      }
    } finally {
      clearImmediate(immediate);
      this.stop.removeEventListener("abort", onStop!);
    }
  }
}

// The sync loops below are the per-record hot path of every source: one call per record, no closures.
function fillerOf(read: () => ReadResult): (max: number, records: unknown[]) => unknown {
  return (max, records) => {
    for (let n = 0; n < max; n++) {
      const value = read();
      if (isThenable(value) || value === DONE || value === IDLE) {
        records.length = n;
        return value;
      }
      records[n] = value;
    }
    return MORE;
  };
}

// A method call on the instance inlines better than a call through a bound function.
function batchFunctionFiller(instance: { execute(): unknown }): (max: number, records: unknown[]) => unknown {
  return (max, records) => {
    for (let n = 0; n < max; n++) {
      const value = instance.execute();
      if (value === null || value === undefined || isThenable(value)) {
        records.length = n;
        return value === null || value === undefined ? DONE : Promise.resolve(value).then((v) => (v === null || v === undefined ? DONE : v));
      }
      records[n] = value;
    }
    return MORE;
  };
}

function batchFunctionReader(execute: () => unknown): () => ReadResult {
  const settle = (value: unknown) => (value === null || value === undefined ? DONE : value);
  return () => {
    const value = execute();
    return isThenable(value) ? Promise.resolve(value).then(settle) : settle(value);
  };
}

function sourceFunctionReader(execute: () => unknown): () => ReadResult {
  // Like the original, "nothing" (undefined or null) means no record right now.
  const settle = (value: unknown) => (value === END_OF_STREAM ? DONE : value === undefined || value === null ? IDLE : value);
  return () => {
    const value = execute();
    return isThenable(value) ? Promise.resolve(value).then(settle) : settle(value);
  };
}

function iterableReader(iterable: unknown): {
  read: () => ReadResult;
  dispose: () => void;
  fill?: (max: number, records: unknown[]) => unknown;
  iterator?: Iterator<unknown>;
} {
  const source = iterable as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
  if (source !== null && typeof source === "object" && typeof source[Symbol.iterator] === "function") {
    const iterator = source[Symbol.iterator]!();
    return {
      read: () => {
        const step = iterator.next();
        return step.done ? DONE : step.value;
      },
      fill: (max, records) => {
        for (let n = 0; n < max; n++) {
          const step = iterator.next();
          if (step.done) {
            records.length = n;
            return DONE;
          }
          records[n] = step.value;
        }
        return MORE;
      },
      dispose: () => void iterator.return?.(),
      iterator,
    };
  }
  if (source !== null && typeof source === "object" && typeof source[Symbol.asyncIterator] === "function") {
    const iterator = source[Symbol.asyncIterator]!();
    const settle = (step: IteratorResult<unknown>) => (step.done ? DONE : step.value);
    return {
      read: () => iterator.next().then(settle),
      dispose: () => void Promise.resolve(iterator.return?.()).catch(() => undefined),
    };
  }
  throw new TypeError(`a source function must return an iterable or async iterable, got ${iterable === null ? "null" : typeof iterable}`);
}

// What a source's progress() answered, if it is a progress at all.
function validProgress(value: unknown): SourceProgress | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { done, total, unit = "records" } = value as Record<string, unknown>;
  if (typeof done !== "number" || typeof total !== "number" || !(done >= 0) || !(total >= 0) || !Number.isFinite(done + total)) return undefined;
  if (unit !== "records" && unit !== "bytes") return undefined;
  return { done: Math.min(done, total), total, unit };
}
