import type { FunctionContext } from "../../api/types.js";
import type { FunctionHooks } from "../user-function.js";
import { FunctionStage } from "./function-stage.js";
import type { Stage, StageEnv } from "./stage.js";

/** `coMap`: input i is mapped by function i (or the class's `map<i>`), into one output stream. */
export class CoMapStage extends FunctionStage {
  constructor(
    env: StageEnv,
    next: Stage,
    hooks: FunctionHooks | undefined,
    private readonly fns: ReadonlyArray<(data: unknown, ctx: FunctionContext) => unknown>,
    private readonly ctx: FunctionContext,
  ) {
    super(env, next, hooks);
  }

  protected invoke(record: unknown, _key: unknown, input: number): unknown {
    const fn = this.fns[input]!; // no receiver (the array of functions): see MapStage.invoke
    return fn(record, this.ctx);
  }

  protected collect(_record: unknown, value: unknown, out: unknown[]): void {
    if (value !== undefined) out.push(value);
  }
}
