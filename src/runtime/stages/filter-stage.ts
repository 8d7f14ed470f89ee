import type { FunctionContext } from "../../api/types.js";
import { isThenable } from "../thenable.js";
import type { FunctionHooks } from "../user-function.js";
import { FunctionStage } from "./function-stage.js";
import type { FusableParts, Stage, StageEnv } from "./stage.js";

/** `filter`: keeps the records whose predicate is truthy. */
export class FilterStage extends FunctionStage {
  constructor(
    env: StageEnv,
    next: Stage,
    hooks: FunctionHooks | undefined,
    private readonly fn: (data: unknown, ctx: FunctionContext) => unknown,
    private readonly ctx: FunctionContext,
  ) {
    super(env, next, hooks);
  }

  push(records: unknown[], _keys: unknown[] | undefined, input: number): void | Promise<void> {
    const n = records.length;
    this.env.counters.recordsIn += n;
    const fn = this.fn;
    const ctx = this.ctx;
    const out: unknown[] = [];
    try {
      if (this.windowBusy) return this.continueAsync(records, undefined, input, 0, fn(records[0], ctx), out);
      for (let i = 0; i < n; i++) {
        const record = records[i];
        const keep = fn(record, ctx);
        if (isThenable(keep)) return this.continueAsync(records, undefined, input, i, keep, out);
        if (keep) out.push(record);
      }
    } catch (error) {
      throw this.wrap(error);
    }
    return this.emit(out);
  }

  /** The parts a fused run compiles into its loop. */
  fusion(): FusableParts {
    return { kind: "filter", fn: this.fn as FusableParts["fn"], ctx: this.ctx, instance: this.hooks as FusableParts["instance"], env: this.env, stage: this };
  }

  protected invoke(record: unknown): unknown {
    return this.fn(record, this.ctx);
  }

  protected collect(record: unknown, keep: unknown, out: unknown[]): void {
    if (keep) out.push(record);
  }
}
