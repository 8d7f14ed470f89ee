/** Plain counters of one operator instance, bumped once per batch and sampled for status. */
export interface OperatorCounters {
  recordsIn: number;
  recordsOut: number;
  errors: number;
}

/** Fresh zeroed counters. */
export function newCounters(): OperatorCounters {
  return { recordsIn: 0, recordsOut: 0, errors: 0 };
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
