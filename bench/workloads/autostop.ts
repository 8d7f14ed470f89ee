/**
 * Autostop latency: a small bounded pipeline with three registered services; the time from the
 * sink handling its last record to `await env.submit({ autostop: true })` resolving.
 */

/** Records of the small pipeline. */
export const AUTOSTOP_RECORDS = 1_000;
/** Measured repetitions (after the warm-up ones). */
export const AUTOSTOP_REPEATS = 30;
/** Unmeasured repetitions first. */
export const AUTOSTOP_WARMUP = 5;

/** The three services every repetition registers. */
export const AUTOSTOP_SERVICES = ["alpha", "beta", "gamma"] as const;
