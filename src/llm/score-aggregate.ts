/** The aggregate of one metric over a run, as reported at the end. */
export interface MetricSummary {
  /** Records scored. */
  count: number;
  mean: number;
  min: number;
  max: number;
  sum: number;
  /** Records that lacked the metric's input and passed unscored (`skipMissing`). */
  skipped: number;
  /** Percentiles (nearest rank), for metrics that keep every value (latency, tokens). */
  p50?: number;
  p90?: number;
  p99?: number;
}

/** What one operator instance knows of a metric: plain JSON, merged across instances. */
export interface ScorePartial {
  count: number;
  sum: number;
  min: number;
  max: number;
  skipped: number;
  /** Every value, when percentiles are wanted. */
  values?: number[];
}

/** Running count, sum, extremes (and, when asked, every value for percentiles) of a metric. */
export class ScoreAggregate {
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;
  #skipped = 0;
  readonly #values: number[] | undefined;

  constructor(options: { percentiles?: boolean } = {}) {
    this.#values = options.percentiles ? [] : undefined;
  }

  /** Counts one score. */
  add(value: number): void {
    this.#count++;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
    this.#values?.push(value);
  }

  /** Counts a record that passed unscored. */
  skip(): void {
    this.#skipped++;
  }

  /** Adds another instance's partial aggregate. */
  merge(partial: ScorePartial): void {
    this.#count += partial.count;
    this.#sum += partial.sum;
    this.#skipped += partial.skipped;
    if (partial.count > 0) {
      this.#min = Math.min(this.#min, partial.min);
      this.#max = Math.max(this.#max, partial.max);
    }
    if (this.#values && partial.values) for (const v of partial.values) this.#values.push(v);
  }

  /** This aggregate as plain JSON, to send to an EvaluationReport. */
  partial(): ScorePartial {
    // No Infinity: a partial crosses processes as JSON, which has none.
    const empty = this.#count === 0;
    return { count: this.#count, sum: this.#sum, min: empty ? 0 : this.#min, max: empty ? 0 : this.#max, skipped: this.#skipped, ...(this.#values && { values: this.#values }) };
  }

  /** Mean, count, extremes and (when kept) percentiles; zeros when nothing was scored. */
  summary(): MetricSummary {
    const count = this.#count;
    const summary: MetricSummary = {
      count,
      mean: count === 0 ? 0 : this.#sum / count,
      min: count === 0 ? 0 : this.#min,
      max: count === 0 ? 0 : this.#max,
      sum: this.#sum,
      skipped: this.#skipped,
    };
    if (this.#values) {
      const sorted = Float64Array.from(this.#values).sort();
      const rank = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!);
      summary.p50 = rank(50);
      summary.p90 = rank(90);
      summary.p99 = rank(99);
    }
    return summary;
  }
}

/** One line of a metric's summary, as the logs show it. */
export function formatSummary(metric: string, s: MetricSummary): string {
  const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4));
  // No record scored (the job failed first, say): a mean of 0 would read as a score.
  if (s.count === 0) return `${metric}: no records scored${s.skipped > 0 ? ` (${s.skipped} skipped)` : ""}`;
  const percentiles = s.p50 === undefined ? "" : `, p50 ${n(s.p50)}, p90 ${n(s.p90!)}, p99 ${n(s.p99!)}`;
  return `${metric}: mean ${n(s.mean)} over ${s.count} records (min ${n(s.min)}, max ${n(s.max)}${percentiles})${s.skipped > 0 ? `, ${s.skipped} skipped` : ""}`;
}
