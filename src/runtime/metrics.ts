import type { SourceProgress } from "../api/types.js";
import type { LatencyHistogram } from "./latency-histogram.js";
import type { ClockSource } from "./task-clock.js";

/**
 * Plain counters of one operator instance, bumped once per batch (records) or per async call
 * (in flight, latency) and sampled for status. Plain fields: the hot path reads and bumps them.
 */
export interface OperatorCounters {
  /** The instance's index among the operator's parallel instances. */
  readonly index: number;
  recordsIn: number;
  recordsOut: number;
  errors: number;
  /** Async calls of the user function in flight. */
  inFlight: number;
  /** Per-record latency of async calls; made by the first async call. */
  latency: LatencyHistogram | undefined;
  /** Async calls started, for the latency's sampling. */
  asyncCalls: number;
  /** Where the time of the task instance that runs this operator goes, with its inbox. */
  clock: ClockSource | undefined;
  /** How far a source has read, when it knows its size. */
  progress: (() => SourceProgress | undefined) | undefined;
  /** Distributed mode: the worker the instance runs on. */
  worker: string | undefined;
}

/** Fresh zeroed counters of instance `index`. */
export function newCounters(index = 0): OperatorCounters {
  return { index, recordsIn: 0, recordsOut: 0, errors: 0, inFlight: 0, latency: undefined, asyncCalls: 0, clock: undefined, progress: undefined, worker: undefined };
}

/**
 * Counts work that is still in flight, for feedback-loop termination. Outside loops the
 * runtime passes {@link NO_WORK_TRACKING}, so the hot path pays one no-op call per batch.
 */
export interface WorkCounter {
  acquire(count?: number): void;
  release(count?: number): void;
}

/** The counter used outside feedback loops. */
export const NO_WORK_TRACKING: WorkCounter = { acquire() {}, release() {} };
