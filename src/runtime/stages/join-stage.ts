import type { FunctionContext } from "../../api/types.js";
import { isThenable } from "../thenable.js";
import type { FunctionHooks } from "../user-function.js";
import { expandInto } from "./expand.js";
import { FunctionStage } from "./function-stage.js";
import type { Stage, StageEnv } from "./stage.js";

/** `join`: each keyed record goes to `fn(payload, key, tag)`; the records it returns are emitted. */
export class JoinStage extends FunctionStage {
  constructor(
    env: StageEnv,
    next: Stage,
    hooks: FunctionHooks | undefined,
    private readonly fn: (payload: unknown, key: unknown, tag: number, ctx: FunctionContext) => unknown,
    private readonly ctx: FunctionContext,
  ) {
    super(env, next, hooks);
  }

  push(records: unknown[], keys: unknown[] | undefined, input: number): void | Promise<void> {
    const n = records.length;
    this.env.counters.recordsIn += n;
    const out: unknown[] = [];
    try {
      if (keys === undefined) throw new TypeError(`join input ${input} arrived without keys`);
      if (this.windowBusy) return this.continueAsync(records, keys, input, 0, this.invoke(records[0], keys[0], input), out);
      for (let i = 0; i < n; i++) {
        const result = this.fn(records[i], keys[i], input, this.ctx);
        if (isThenable(result)) return this.continueAsync(records, keys, input, i, result, out);
        expandInto(result, out);
      }
    } catch (error) {
      throw this.wrap(error);
    }
    return this.emit(out);
  }

  protected invoke(record: unknown, key: unknown, input: number): unknown {
    return this.fn(record, key, input, this.ctx);
  }

  protected collect(_record: unknown, value: unknown, out: unknown[]): void {
    expandInto(value, out);
  }
}
