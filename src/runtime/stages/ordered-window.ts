import { isThenable } from "../thenable.js";
import type { OperatorCounters, WorkCounter } from "../metrics.js";
import { LatencyHistogram } from "../latency-histogram.js";
import { StreamedResult } from "./streamed-result.js";
import { monotonicMs } from "../monotonic-clock.js";

interface Slot {
  record: unknown;
  value: unknown;
  done: boolean;
  /** When its call started, if it is timed (else -1), and how many calls its latency stands for. */
  startedAt: number;
  weight: number;
  /** Items of a streamed result that arrived and were not emitted yet. */
  items?: unknown[];
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Keeps up to `limit` async results in flight for one operator instance and emits them in input
 * order as soon as the oldest are ready. A slot frees only when its result was emitted, so a
 * slow downstream also slows the calls (backpressure). Once `signal` fired (the job was aborted)
 * nothing more is emitted: results that arrive later are dropped, and waiters are left waiting.
 * A {@link StreamedResult} is emitted item by item as it arrives while its record is the oldest
 * in the window (later records' items wait their turn), so streams keep input order too.
 */
export class OrderedWindow {
  #slots: Slot[] = [];
  #head = 0;
  /** Results taken from the queue whose emission downstream has not settled yet. */
  #emitting = 0;
  #pumping = false;
  #space: Waiter | undefined;
  #drained: Waiter | undefined;
  #failed = false;
  #error: unknown;

  constructor(
    readonly limit: number,
    private readonly collect: (record: unknown, value: unknown, out: unknown[]) => void,
    private readonly emit: (out: unknown[]) => void | Promise<void>,
    private readonly work: WorkCounter,
    /** Reports the failure; what it returns (e.g. the error tagged with its operator) is what waiters and later calls get. */
    private readonly fail: (error: unknown) => unknown,
    private readonly signal?: AbortSignal,
    /** Where the calls in flight and their latency are counted. */
    private readonly counters?: OperatorCounters,
  ) {}

  /** Results not yet emitted, counting those being emitted right now. */
  get size(): number {
    return this.#slots.length - this.#head + this.#emitting;
  }

  /** Adds one record's result (a value or a thenable); resolves when there is room for another. */
  add(record: unknown, result: unknown): void | Promise<void> {
    if (this.#failed) throw this.#error;
    const slot: Slot = { record, value: result, done: !isThenable(result), startedAt: -1, weight: 1 };
    this.#slots.push(slot);
    this.work.acquire();
    if (result instanceof StreamedResult) {
      slot.done = false;
      void this.#stream(slot, result);
    } else if (slot.done) {
      void this.#pump();
    } else {
      if (this.counters) callStarted(this.counters, slot);
      (result as PromiseLike<unknown>).then(
        (value) => {
          if (this.counters) callEnded(this.counters, slot);
          if (value instanceof StreamedResult) return void this.#stream(slot, value);
          slot.value = value;
          slot.done = true;
          void this.#pump();
        },
        (error) => {
          if (this.counters) this.counters.inFlight--;
          this.#failWith(error);
        },
      );
    }
    if (this.size >= this.limit && !this.#failed) {
      // Stages never push concurrently (the Stage contract), so there is at most one waiter.
      if (this.#space) throw new Error("internal: a second caller waits for room in an ordered window");
      return new Promise((resolve, reject) => (this.#space = { resolve, reject }));
    }
  }

  /** Resolves once every added result was emitted. */
  drain(): void | Promise<void> {
    if (this.#failed) throw this.#error;
    if (this.size === 0) return;
    return new Promise((resolve, reject) => (this.#drained = { resolve, reject }));
  }

  // Reads a streamed result into its slot; the slot is done when the iterable ends.
  async #stream(slot: Slot, result: StreamedResult): Promise<void> {
    const items = (slot.items = result.first.slice());
    const iterator = result.iterable[Symbol.asyncIterator]();
    try {
      if (items.length > 0) void this.#pump();
      for (;;) {
        if (this.#failed || this.signal?.aborted) {
          // Nobody reads the rest: let the iterable release what it holds (an HTTP stream, say).
          await iterator.return?.();
          return;
        }
        const step = await iterator.next();
        if (step.done) break;
        slot.items!.push(step.value);
        void this.#pump();
      }
      slot.value = slot.items;
      slot.items = undefined;
      slot.done = true;
      void this.#pump();
    } catch (error) {
      this.#failWith(error);
    }
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#head < this.#slots.length && !this.#failed && !this.signal?.aborted) {
        const out: unknown[] = [];
        const first = this.#head;
        while (this.#head < this.#slots.length && this.#slots[this.#head]!.done) {
          const slot = this.#slots[this.#head++]!;
          this.collect(slot.record, slot.value, out);
        }
        // The oldest record still streaming: what it produced so far goes now, the rest later.
        const streaming = this.#slots[this.#head];
        if (streaming?.items?.length) out.push(...streaming.items.splice(0));
        else if (this.#head === first) break;
        const emitted = this.#head - first;
        // Until downstream took them, these results still occupy the window: the stage must not
        // push anything else downstream meanwhile, and drain() must wait for them.
        this.#emitting = emitted;
        if (out.length > 0) {
          const pending = this.emit(out);
          if (pending) await pending;
        }
        this.#emitting = 0;
        this.work.release(emitted);
        this.#compact();
        this.#wake();
      }
    } catch (error) {
      this.#failWith(error);
    } finally {
      this.#pumping = false;
    }
  }

  #compact(): void {
    if (this.#head === this.#slots.length) {
      this.#slots.length = 0;
      this.#head = 0;
    } else if (this.#head > 256) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
  }

  #wake(): void {
    if (this.#space && this.size < this.limit) {
      const space = this.#space;
      this.#space = undefined;
      space.resolve();
    }
    if (this.#drained && this.size === 0) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained.resolve();
    }
  }

  #failWith(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = this.fail(error) ?? error;
    this.#space?.reject(this.#error);
    this.#drained?.reject(this.#error);
    this.#space = this.#drained = undefined;
  }
}

/** Async calls of an instance that are each timed; after them, one in LATENCY_SAMPLE_EVERY is. */
const LATENCY_EXACT_CALLS = 1024;
/** Two clock reads and a histogram count per record cost a cheap async map 15-25%; an eighth of that does not show. */
const LATENCY_SAMPLE_EVERY = 8;

// An async call starts: it is in flight; the first ones are each timed, later ones one in a few.
function callStarted(counters: OperatorCounters, slot: Slot): void {
  counters.inFlight++;
  const n = counters.asyncCalls++;
  if (n < LATENCY_EXACT_CALLS) slot.startedAt = monotonicMs();
  else if (n % LATENCY_SAMPLE_EVERY === 0) {
    slot.startedAt = monotonicMs();
    slot.weight = LATENCY_SAMPLE_EVERY;
  }
}

// An async call answered: no longer in flight; its latency counted if it was timed (`weight` calls' worth).
function callEnded(counters: OperatorCounters, slot: Slot): void {
  counters.inFlight--;
  if (slot.startedAt >= 0) (counters.latency ??= new LatencyHistogram()).recordMs(monotonicMs() - slot.startedAt, slot.weight);
}
