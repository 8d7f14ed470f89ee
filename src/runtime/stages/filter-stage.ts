import type { FunctionContext } from "../../api/types.js";
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

  /** The parts a fused run compiles into its loop. */
  fusion(): FusableParts {
    return { kind: "filter", fn: this.fn as FusableParts["fn"], ctx: this.ctx, instance: this.hooks as FusableParts["instance"], env: this.env, stage: this };
  }

  protected invoke(record: unknown): unknown {
    const fn = this.fn; // no receiver: see MapStage.invoke
    return fn(record, this.ctx);
  }

  protected collect(record: unknown, keep: unknown, out: unknown[]): void {
    if (keep) out.push(record);
  }
}
