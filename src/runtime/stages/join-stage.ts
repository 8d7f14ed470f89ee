import type { FunctionContext } from "../../api/types.js";
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

  protected invoke(record: unknown, key: unknown, input: number): unknown {
    const fn = this.fn; // no receiver: see MapStage.invoke
    return fn(record, key, input, this.ctx);
  }

  protected collect(_record: unknown, value: unknown, out: unknown[]): void {
    expandInto(value, out);
  }
}
