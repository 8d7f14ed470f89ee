import type { FunctionContext } from "../../api/types.js";
import { isThenable } from "../thenable.js";
import type { FunctionHooks } from "../user-function.js";
import { FunctionStage } from "./function-stage.js";
import type { FusableParts, Stage, StageEnv } from "./stage.js";

/** `map`: one record in, one out; `undefined` results are dropped. */
export class MapStage extends FunctionStage {
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
        const result = fn(records[i], ctx);
        if (isThenable(result)) return this.continueAsync(records, undefined, input, i, result, out);
        if (result !== undefined) out.push(result);
      }
    } catch (error) {
      throw this.wrap(error);
    }
    return this.emit(out);
  }

  /** The parts a fused run compiles into its loop. */
  fusion(): FusableParts {
    return { kind: "map", fn: this.fn as FusableParts["fn"], ctx: this.ctx, instance: this.hooks as FusableParts["instance"], env: this.env, stage: this };
  }

  protected invoke(record: unknown): unknown {
    return this.fn(record, this.ctx);
  }

  protected collect(_record: unknown, value: unknown, out: unknown[]): void {
    if (value !== undefined) out.push(value);
  }
}
