import type { LatencySummary } from "../api/types.js";

/**
 * A log-linear latency histogram in the manner of HdrHistogram: values (whole microseconds)
 * below 32 are counted exactly, larger ones in 32 sub-buckets per power of two, so any
 * percentile it reports is within 1/64 (1.6%) of a value that was recorded. Recording is a
 * few integer operations and one array increment, cheap enough for a per-record hot path;
 * the counts are a fixed 896-slot array whatever the number of records.
 */

/** Sub-buckets per power of two, as a bit count: 2^5 = 32. */
const SUB_BITS = 5;
const SUB_COUNT = 1 << SUB_BITS;
/** Values are clamped to 32 bits of microseconds (about 71 minutes). */
const MAX_VALUE = 0xffff_ffff;
/** Slots for values 0..2^32-1: 32 exact, then 32 per power of two from 2^5 to 2^31. */
export const HISTOGRAM_SLOTS = SUB_COUNT + (31 - SUB_BITS + 1) * SUB_COUNT;

/** The slot a value (whole microseconds, 0..2^32-1) is counted in. */
function slotOf(value: number): number {
  if (value < SUB_COUNT) return value;
  const exponent = 31 - Math.clz32(value);
  return ((exponent - SUB_BITS + 1) << SUB_BITS) | ((value >>> (exponent - SUB_BITS)) & (SUB_COUNT - 1));
}

/** The lowest value counted in a slot. */
function slotLow(slot: number): number {
  if (slot < SUB_COUNT) return slot;
  const exponent = (slot >>> SUB_BITS) + SUB_BITS - 1;
  return (SUB_COUNT + (slot & (SUB_COUNT - 1))) * 2 ** (exponent - SUB_BITS);
}

/** The width of a slot: 1 for exact slots, 2^(exponent-5) above. */
function slotWidth(slot: number): number {
  if (slot < SUB_COUNT) return 1;
  return 2 ** ((slot >>> SUB_BITS) - 1);
}

/** A histogram as it travels in events and status: its non-empty slots and exact extremes. */
export interface HistogramSnapshot {
  /** Records counted. */
  count: number;
  /** Sum of the recorded values, microseconds. */
  sumMicros: number;
  /** Smallest and largest value recorded, exactly (0 when empty). */
  minMicros: number;
  maxMicros: number;
  /** Non-empty slots as [slot, count, slot, count, ...]. */
  slots: number[];
}

/** Upper bounds (ms) of the latency buckets a status carries per operator and service: 1 ms to a minute. */
export const LATENCY_BUCKETS_MS: readonly number[] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];
const LATENCY_BUCKETS_MICROS = LATENCY_BUCKETS_MS.map((ms) => ms * 1000);

/** Counts latencies and answers percentiles within 1.6%; merges with others of its kind. */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(HISTOGRAM_SLOTS);
  private total = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;

  /**
   * Counts a latency of `micros` microseconds (negative and NaN count as 0; fractions are cut),
   * `times` times: a sampled value stands for the records it was sampled from.
   */
  record(micros: number, times = 1): void {
    const value = micros > 0 ? (micros < MAX_VALUE ? Math.trunc(micros) : MAX_VALUE) : 0;
    this.counts[slotOf(value)]! += times;
    this.total += times;
    this.sum += value * times;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Counts a latency given in milliseconds, as differences of `monotonicMs()` are. */
  recordMs(ms: number, times = 1): void {
    this.record(ms * 1000, times);
  }

  /** Records counted so far. */
  get count(): number {
    return this.total;
  }

  /**
   * The value (microseconds) at or below which `quantile` (0..1) of the records fall: the
   * middle of the slot holding that rank, kept within the exact min and max.
   */
  percentile(quantile: number): number {
    if (this.total === 0) return 0;
    if (!(quantile > 0)) return this.min;
    if (quantile >= 1) return this.max;
    const rank = Math.ceil(quantile * this.total);
    let seen = 0;
    for (let slot = 0; slot < HISTOGRAM_SLOTS; slot++) {
      seen += this.counts[slot]!;
      if (seen >= rank) {
        const middle = slotLow(slot) + (slotWidth(slot) - 1) / 2;
        return Math.min(this.max, Math.max(this.min, middle));
      }
    }
    return this.max;
  }

  /** Adds every count of `other` (another instance's histogram, or a snapshot of one). */
  merge(other: LatencyHistogram | HistogramSnapshot): void {
    const snapshot = "snapshot" in other ? other.snapshot() : other;
    if (snapshot.count === 0) return;
    const { slots } = snapshot;
    for (let i = 0; i + 1 < slots.length; i += 2) {
      const slot = slots[i]!;
      if (!Number.isInteger(slot) || slot < 0 || slot >= HISTOGRAM_SLOTS) throw new RangeError(`histogram snapshot has slot ${slot}, outside 0..${HISTOGRAM_SLOTS - 1}`);
      this.counts[slot]! += slots[i + 1]!;
    }
    this.total += snapshot.count;
    this.sum += snapshot.sumMicros;
    this.min = Math.min(this.min, snapshot.minMicros);
    this.max = Math.max(this.max, snapshot.maxMicros);
  }

  /** The non-empty slots and extremes, small enough to send with every metrics sample. */
  snapshot(): HistogramSnapshot {
    const slots: number[] = [];
    for (let slot = 0; slot < HISTOGRAM_SLOTS; slot++) {
      const count = this.counts[slot]!;
      if (count !== 0) slots.push(slot, count);
    }
    return { count: this.total, sumMicros: this.sum, minMicros: this.total ? this.min : 0, maxMicros: this.max, slots };
  }

  /** Mean and p50/p90/p99/max in milliseconds, with the cumulative buckets at LATENCY_BUCKETS_MS when asked. */
  summary(withBuckets = false): LatencySummary {
    const ms = (micros: number) => Math.round(micros) / 1000;
    return {
      count: this.total,
      sumMs: this.sum / 1000,
      meanMs: this.total ? ms(this.sum / this.total) : 0,
      p50Ms: ms(this.percentile(0.5)),
      p90Ms: ms(this.percentile(0.9)),
      p99Ms: ms(this.percentile(0.99)),
      maxMs: ms(this.max),
      ...(withBuckets && { buckets: this.cumulativeAt(LATENCY_BUCKETS_MICROS) }),
    };
  }

  /**
   * Cumulative counts at the given upper bounds (microseconds, ascending), as Prometheus
   * histogram buckets: a slot counts toward a bound when its whole range lies at or below it.
   */
  cumulativeAt(boundsMicros: readonly number[]): number[] {
    const result: number[] = [];
    let slot = 0;
    let seen = 0;
    for (const bound of boundsMicros) {
      while (slot < HISTOGRAM_SLOTS && slotLow(slot) + slotWidth(slot) - 1 <= bound) seen += this.counts[slot++]!;
      result.push(seen);
    }
    return result;
  }

  /** A histogram holding what a snapshot holds. */
  static fromSnapshot(snapshot: HistogramSnapshot): LatencyHistogram {
    const histogram = new this();
    histogram.merge(snapshot);
    return histogram;
  }
}
