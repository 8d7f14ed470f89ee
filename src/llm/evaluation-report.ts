import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { BaseService } from "../api/service.js";
import { formatSummary, ScoreAggregate, type MetricSummary, type ScorePartial } from "./score-aggregate.js";

/** The aggregates of a run, by metric name. */
export type EvaluationSummary = Record<string, MetricSummary>;

/** Options of an EvaluationReport. */
export interface EvaluationReportOptions {
  /** A JSON file the final summary is written to at cleanup (its directory is created). */
  path?: string;
  /** Called with the final summary at cleanup, in the process that runs the service. */
  onReport?: (summary: EvaluationSummary) => void;
}

/**
 * A service the evaluators send their aggregates to (`report: "<its name>"`), so a metric is
 * summarised once over every parallel instance, local or remote. At cleanup it logs one line per
 * metric, writes the summary to `path` and calls `onReport`; while the job runs, `summary()`
 * answers callers and `metrics()` publishes `<metric>.mean` and `<metric>.count` (and latency
 * percentiles) in the job's status.
 * @example env.registerService("evaluation", EvaluationReport, { args: [{ path: "out/eval.json" }] })
 */
export class EvaluationReport extends BaseService {
  readonly #path: string | undefined;
  readonly #onReport: ((summary: EvaluationSummary) => void) | undefined;
  readonly #metrics = new Map<string, ScoreAggregate>();

  constructor(options: EvaluationReportOptions = {}) {
    super();
    this.#path = options.path;
    this.#onReport = options.onReport;
  }

  /** Merges one instance's aggregate of `metric`. */
  add(metric: string, partial: ScorePartial): void {
    if (typeof metric !== "string" || partial === null || typeof partial !== "object" || typeof partial.count !== "number") {
      throw new TypeError("EvaluationReport.add takes (metric: string, partial: { count, sum, min, max, skipped, values? })");
    }
    let aggregate = this.#metrics.get(metric);
    if (aggregate === undefined) {
      aggregate = new ScoreAggregate({ percentiles: Array.isArray(partial.values) });
      this.#metrics.set(metric, aggregate);
    }
    aggregate.merge(partial);
  }

  /** The summary of every metric received so far. */
  summary(): EvaluationSummary {
    const summary: EvaluationSummary = {};
    for (const [metric, aggregate] of this.#metrics) summary[metric] = aggregate.summary();
    return summary;
  }

  /** Flat counters for the job's status: `f1.mean`, `f1.count`, `latencyMs.p99`, ... */
  metrics(): Record<string, number> {
    const flat: Record<string, number> = {};
    for (const [metric, s] of Object.entries(this.summary())) {
      flat[`${metric}.mean`] = s.mean;
      flat[`${metric}.count`] = s.count;
      if (s.p50 !== undefined) {
        flat[`${metric}.p50`] = s.p50;
        flat[`${metric}.p99`] = s.p99!;
      }
    }
    return flat;
  }

  cleanup(): void {
    const summary = this.summary();
    for (const [metric, s] of Object.entries(summary)) this.logger.info(formatSummary(metric, s));
    if (this.#path !== undefined) {
      mkdirSync(dirname(this.#path), { recursive: true });
      writeFileSync(this.#path, `${JSON.stringify(summary, null, 2)}\n`);
    }
    this.#onReport?.(summary);
  }
}
