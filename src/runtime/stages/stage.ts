import type { OperatorCounters, WorkCounter } from "../metrics.js";

/**
 * One operator instance inside a task's fused chain. Callers never call `push` or `end` again
 * before a returned promise settles; a promise is backpressure.
 */
export interface Stage {
  /** Processes a batch that arrived on head input `input` (0 after the head). */
  push(records: unknown[], keys: unknown[] | undefined, input: number): void | Promise<void>;
  /** No more input: flushes in-flight work, closes the function, then ends the next stage. */
  end(): void | Promise<void>;
}

/** What every stage of an operator instance gets from its task. */
export interface StageEnv {
  /** The operator's name, for errors. */
  readonly operator: string;
  readonly counters: OperatorCounters;
  /** In-flight accounting; a no-op outside feedback loops. */
  readonly work: WorkCounter;
  /** Async calls in flight per instance. */
  readonly concurrency: number;
  /** Fires on abort: stop calling the user function. */
  readonly abortSignal: AbortSignal;
  /** Reports a failure that happened outside any push (e.g. in an async completion). */
  fail(error: unknown): void;
}

/** The end of a chain that leads nowhere (a sink). */
export const TERMINAL_STAGE: Stage = { push() {}, end() {} };

/** What a simple per-record stage exposes so a run of them can be compiled into one loop. */
export interface FusableParts {
  kind: "map" | "filter" | "keyBy" | "sink";
  fn: (data: unknown, ctx: unknown) => unknown;
  ctx: unknown;
  /** The function-class instance, when there is one: its `execute` is called as a method. */
  instance: { execute(data: unknown): unknown } | undefined;
  env: StageEnv;
  /** The generic stage: used for the async path and for end(). */
  stage: Stage & { readonly windowBusy: boolean; resume(record: unknown, pending: unknown): Promise<void> };
}
