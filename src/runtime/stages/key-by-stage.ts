import type { FunctionContext } from "../../api/types.js";
import { OperatorError } from "../../api/errors.js";
import { isThenable } from "../thenable.js";
import { closeOnce, type FunctionHooks } from "../user-function.js";
import type { FusableParts, Stage, StageEnv } from "./stage.js";

/** `keyBy`: computes each record's key; the edge after it partitions by a stable hash of the key. */
export class KeyByStage implements Stage {
  /** Runs the function's close() once. */
  readonly close: () => Promise<void>;

  constructor(
    private readonly env: StageEnv,
    private readonly next: Stage,
    private readonly hooks: FunctionHooks | undefined,
    private readonly fn: (data: unknown, ctx: FunctionContext) => unknown,
    private readonly ctx: FunctionContext,
  ) {
    this.close = closeOnce(env.operator, hooks);
  }

  push(records: unknown[]): void | Promise<void> {
    const n = records.length;
    const keys = new Array<unknown>(n);
    const fn = this.fn;
    const ctx = this.ctx;
    try {
      for (let i = 0; i < n; i++) {
        const key = fn(records[i], ctx);
        if (isThenable(key)) throw new TypeError("a key selector must return its key synchronously, not a promise");
        keys[i] = key;
      }
    } catch (error) {
      this.env.counters.errors++;
      throw new OperatorError(this.env.operator, error);
    }
    this.env.counters.recordsIn += n;
    this.env.counters.recordsOut += n;
    return this.next.push(records, keys, 0);
  }

  /** Never busy: key selectors are synchronous. */
  readonly windowBusy = false;

  /** The parts a fused run compiles into its loop. */
  fusion(): FusableParts {
    return { kind: "keyBy", fn: this.fn as FusableParts["fn"], ctx: this.ctx, instance: this.hooks as FusableParts["instance"], env: this.env, stage: this };
  }

  /** Unreachable: a key selector never returns a thenable that is accepted. */
  resume(): Promise<void> {
    return Promise.reject(new TypeError("a key selector must return its key synchronously"));
  }

  async end(): Promise<void> {
    await this.close();
    await this.next.end();
  }
}
