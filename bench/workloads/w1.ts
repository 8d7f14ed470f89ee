/**
 * W1: a CPU-bound record pipeline. Integers 0..N-1 -> map(x*3+1) -> filter(even, keeps half)
 * -> keyBy(1024 keys) -> running sum per key -> sink (checksum of the emitted sums).
 */

/** Input records of a full run. */
export const W1_RECORDS = 5_000_000;
/** Distinct keys of the keyBy step. */
export const W1_KEYS = 1024;

/** The map step. */
export const w1Map = (x: number): number => x * 3 + 1;
/** The filter step: keeps the even results, i.e. every other input. */
export const w1Filter = (y: number): boolean => (y & 1) === 0;
/** The key of a filtered record, 0..1023. */
export const w1Key = (y: number): number => (y >>> 1) & (W1_KEYS - 1);

/**
 * Keyed state of the running-sum step: one sum per key in a Map, as a user writes keyed state
 * (keys are not always small integers); `add` returns the key's new sum.
 */
export class RunningSum {
  readonly sums = new Map<number, number>();

  /** Adds `y` to its key's sum and returns the new sum. */
  add(y: number): number {
    const key = w1Key(y);
    const sum = (this.sums.get(key) ?? 0) + y;
    this.sums.set(key, sum);
    return sum;
  }
}

/** The source as a generator: 0..n-1. */
export function* w1Source(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}
