import type { Collector } from "../../api/functions.js";
import type { FunctionContext } from "../../api/types.js";
import { isThenable } from "../thenable.js";
import type { FunctionHooks } from "../user-function.js";
import { expandInto, isAsyncIterable } from "./expand.js";
import { FunctionStage } from "./function-stage.js";
import type { Stage, StageEnv } from "./stage.js";
import { StreamedResult } from "./streamed-result.js";

/**
 * `flatMap`: a plain function gets `(data, ctx)` and returns an iterable; a FlatMapFunction
 * gets `(data, collector)` and may collect and/or return an iterable (collected records first).
 * An async iterable's items go downstream as they come (see StreamedResult).
 */
export class FlatMapStage extends FunctionStage {
  // The fast path's collector writes straight into the batch being built.
  readonly #collector = { out: [] as unknown[], collect(record: unknown) { this.out.push(record); } };

  constructor(
    env: StageEnv,
    next: Stage,
    hooks: FunctionHooks | undefined,
    private readonly fn: (data: unknown, second: unknown) => unknown,
    private readonly ctx: FunctionContext,
    private readonly usesCollector: boolean,
  ) {
    super(env, next, hooks);
  }

  override push(records: unknown[], _keys: unknown[] | undefined, input: number): void | Promise<void> {
    const n = records.length;
    this.env.counters.recordsIn += n;
    const out: unknown[] = [];
    try {
      if (this.windowBusy) return this.continueAsync(records, undefined, input, 0, this.invoke(records[0]), out);
      const collector = this.#collector;
      collector.out = out;
      const second = this.usesCollector ? collector : this.ctx;
      const fn = this.fn; // no receiver: see MapStage.invoke
      for (let i = 0; i < n; i++) {
        const result = fn(records[i], second);
        if (isThenable(result) || isAsyncIterable(result)) {
          // What this call collects from now on (after an await) belongs to its async result, so
          // the shared collector hands it a bucket of its own; later records get per-call ones.
          const bucket: unknown[] = [];
          collector.out = bucket;
          return this.continueAsync(records, undefined, input, i, this.#settle(result, bucket), out);
        }
        expandInto(result, out);
      }
    } catch (error) {
      throw this.wrap(error);
    }
    return this.emit(out);
  }

  protected invoke(record: unknown): unknown {
    const fn = this.fn; // no receiver: see MapStage.invoke
    if (!this.usesCollector) return this.#settle(fn(record, this.ctx), []);
    const bucket: unknown[] = [];
    const collector: Collector<unknown> = { collect: (item) => void bucket.push(item) };
    return this.#settle(fn(record, collector), bucket);
  }

  protected collect(_record: unknown, value: unknown, out: unknown[]): void {
    expandInto(value, out);
  }

  // Turns any result into an array (or a promise of one) that starts with the collected records.
  #settle(result: unknown, collected: unknown[]): unknown {
    if (isThenable(result)) return Promise.resolve(result).then((value) => this.#settle(value, collected));
    if (isAsyncIterable(result)) return new StreamedResult(result, collected);
    expandInto(result, collected);
    return collected;
  }
}
