import type { FunctionContext } from "../../api/types.js";
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

  /** The parts a fused run compiles into its loop. */
  fusion(): FusableParts {
    return { kind: "map", fn: this.fn as FusableParts["fn"], ctx: this.ctx, instance: this.hooks as FusableParts["instance"], env: this.env, stage: this };
  }

  protected invoke(record: unknown): unknown {
    // Called without a receiver, as the fused loop calls it: a plain function's `this` is undefined
    // either way, and its stack frame is not named after this stage.
    const fn = this.fn;
    return fn(record, this.ctx);
  }

  protected collect(_record: unknown, value: unknown, out: unknown[]): void {
    if (value !== undefined) out.push(value);
  }
}
