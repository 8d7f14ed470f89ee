/**
 * Milliseconds on the process's monotonic clock, fractional, from an arbitrary origin: what the
 * runtime times waits, calls and rates with.
 * @remarks Not `performance.now()`: in Node 20 the first read of the global `performance` loads
 * perf_hooks (seven internal modules, about 2 ms of a fresh process), a cost every bounded job
 * would pay on its first run. `process.hrtime.bigint()` is a plain binding: tens of nanoseconds
 * per call, like `performance.now()`.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
