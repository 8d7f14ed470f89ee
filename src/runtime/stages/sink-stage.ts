import type { FunctionContext } from "../../api/types.js";
import type { FunctionHooks } from "../user-function.js";
import { FunctionStage } from "./function-stage.js";
import { TERMINAL_STAGE, type FusableParts, type StageEnv } from "./stage.js";

/** `sink`: consumes records; emits nothing. */
export class SinkStage extends FunctionStage {
  constructor(
    env: StageEnv,
    hooks: FunctionHooks | undefined,
    private readonly fn: (data: unknown, ctx: FunctionContext) => unknown,
    private readonly ctx: FunctionContext,
  ) {
    super(env, TERMINAL_STAGE, hooks);
  }

  /** The parts a fused run compiles into its loop. */
  fusion(): FusableParts {
    return { kind: "sink", fn: this.fn as FusableParts["fn"], ctx: this.ctx, instance: this.hooks as FusableParts["instance"], env: this.env, stage: this };
  }

  protected invoke(record: unknown): unknown {
    const fn = this.fn; // no receiver: see MapStage.invoke
    return fn(record, this.ctx);
  }

  protected collect(): void {}
}
