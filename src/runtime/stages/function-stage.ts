import { OperatorError } from "../../api/errors.js";
import { closeOnce, type FunctionHooks } from "../user-function.js";
import { isThenable } from "../thenable.js";
import { OrderedWindow } from "./ordered-window.js";
import type { Stage, StageEnv } from "./stage.js";

/**
 * Shared machinery of the per-record operators. Subclasses run their own synchronous loop (the
 * fast path: no promise, no closure per record) and hand over to `continueAsync` at the first
 * thenable a user function returns; from there an {@link OrderedWindow} keeps `concurrency`
 * calls in flight and preserves order.
 */
export abstract class FunctionStage implements Stage {
  /** Created at the first async result: a stage whose function answers synchronously never needs one. */
  #window: OrderedWindow | undefined;
  /** Runs the function's close() once; errors are the operator's. */
  readonly close: () => Promise<void>;

  constructor(
    protected readonly env: StageEnv,
    protected readonly next: Stage,
    protected readonly hooks: FunctionHooks | undefined,
  ) {
    this.close = closeOnce(env.operator, hooks, () => env.counters.errors++);
  }

  // Kept out of the constructor: building a window (and its callbacks) is work, and code to
  // compile, that a job whose functions all answer synchronously never needs.
  #openWindow(): OrderedWindow {
    const env = this.env;
    return (this.#window = new OrderedWindow(
      env.concurrency,
      (record, value, out) => this.collect(record, value, out),
      (out) => this.emit(out),
      env.work,
      (error) => {
        const tagged = this.wrap(error);
        env.fail(tagged);
        return tagged; // awaiting callers get it tagged, so wrap() does not count it again
      },
      env.abortSignal,
      env.counters,
    ));
  }

  /**
   * The generic path: fused runs (see FusedRun) handle the sync hot path of map, filter and sink,
   * so this loop serves their async continuations and the stages that are never fused.
   */
  push(records: unknown[], keys: unknown[] | undefined, input: number): void | Promise<void> {
    const n = records.length;
    this.env.counters.recordsIn += n;
    const out: unknown[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const result = this.invoke(records[i], keys?.[i], input);
        if (this.windowBusy || isThenable(result)) return this.continueAsync(records, keys, input, i, result, out);
        this.collect(records[i], result, out);
      }
    } catch (error) {
      throw this.wrap(error);
    }
    return this.emit(out);
  }

  /** Calls the user function for one record; may return a thenable. */
  protected abstract invoke(record: unknown, key: unknown, input: number): unknown;

  /** Appends what `value` (the awaited result for `record`) produces to `out`. */
  protected abstract collect(record: unknown, value: unknown, out: unknown[]): void;

  /** Whether earlier async results are still waiting, so new records must queue behind them. */
  get windowBusy(): boolean {
    return this.#window !== undefined && this.#window.size > 0;
  }

  /** Sends a batch on; counts it. */
  protected emit(out: unknown[]): void | Promise<void> {
    if (out.length === 0) return;
    this.env.counters.recordsOut += out.length;
    return this.next.push(out, undefined, 0);
  }

  /** Continues a batch from record `start`, whose result `first` is (or may be) a thenable. */
  protected async continueAsync(
    records: unknown[],
    keys: unknown[] | undefined,
    input: number,
    start: number,
    first: unknown,
    done: unknown[],
  ): Promise<void> {
    try {
      if (done.length > 0) {
        const pending = this.emit(done);
        if (pending) await pending;
      }
      const aborted = this.env.abortSignal;
      const window = this.#window ?? this.#openWindow();
      let pending = window.add(records[start], first);
      if (pending) await pending;
      for (let i = start + 1; i < records.length && !aborted.aborted; i++) {
        pending = window.add(records[i], this.invoke(records[i], keys?.[i], input));
        if (pending) await pending;
      }
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** Queues `record`, whose result `pending` is a thenable, behind earlier results (used by fused runs). */
  resume(record: unknown, pending: unknown): Promise<void> {
    return this.continueAsync([record], undefined, 0, 0, pending, []);
  }

  /** Flushes in-flight results, closes the function, then ends the next stage. */
  async end(): Promise<void> {
    try {
      const drained = this.#window?.drain();
      if (drained) await drained;
    } catch (error) {
      throw this.wrap(error);
    }
    await this.close();
    await this.next.end();
  }

  /** Tags an error with this operator (once). */
  protected wrap(error: unknown): OperatorError {
    if (error instanceof OperatorError) return error;
    this.env.counters.errors++;
    return new OperatorError(this.env.operator, error);
  }
}
