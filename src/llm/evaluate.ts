import { MapFunction } from "../api/functions.js";
import { MissingFieldError, requireObject, withMerged } from "./record-fields.js";
import { formatSummary, ScoreAggregate, type MetricSummary } from "./score-aggregate.js";

/** Options every evaluator takes. */
export interface EvaluateOptions {
  /** Field (dotted path) of the generated answer: a string or `{ text }` (default `generated`, as in SAGE). */
  prediction?: string;
  /** Field of the reference answers: a string or a list of them (default `references`). */
  references?: string;
  /** Name of the score in each record and in the report (default: the evaluator's, e.g. `f1`). */
  metric?: string;
  /** Field the scores are merged into (default `scores`), so chained evaluators add up. */
  scores?: string;
  /** An EvaluationReport service to send this instance's aggregate to at close(). */
  report?: string;
  /** Let records that lack the inputs pass unscored, counted as skipped (default false: they fail the job). */
  skipMissing?: boolean;
}

/** A record after an evaluator: its scores are in `scores` (unless renamed, or the record was skipped). */
export type Scored<T> = T & { scores?: Record<string, number> };

/**
 * Base of the evaluators: a map that adds its score to each record (`scores: { f1: 0.8 }`) and
 * keeps the aggregate of the run. At close() it logs one summary line and, when given a `report`
 * service, sends its aggregate there, where parallel and remote instances are merged.
 */
export abstract class Evaluate<T extends object = Record<string, unknown>> extends MapFunction<T, Scored<T>> {
  /** The score's name in records and reports. */
  readonly metric: string;
  protected readonly prediction: string;
  protected readonly references: string;
  readonly #scores: string;
  readonly #report: string | undefined;
  readonly #skipMissing: boolean;
  readonly #aggregate: ScoreAggregate;

  constructor(options: EvaluateOptions, defaults: { metric: string; percentiles?: boolean }) {
    super();
    this.metric = options.metric ?? defaults.metric;
    this.prediction = options.prediction ?? "generated";
    this.references = options.references ?? "references";
    this.#scores = options.scores ?? "scores";
    this.#report = options.report;
    this.#skipMissing = options.skipMissing ?? false;
    this.#aggregate = new ScoreAggregate({ percentiles: defaults.percentiles ?? false });
  }

  /** The record's score; read inputs with `textField` and friends, which throw MissingFieldError. */
  protected abstract score(record: T): number;

  /** What a record must hold, for error messages. */
  protected abstract get needs(): string;

  execute(record: T): Scored<T> {
    requireObject(record, this.constructor.name, this.needs);
    let value: number;
    try {
      value = this.score(record);
    } catch (error) {
      if (!(error instanceof MissingFieldError)) throw error;
      if (!this.#skipMissing) throw new TypeError(`${this.constructor.name}: a record ${error.message} (give the field's name in the options, or skipMissing: true)`);
      this.#aggregate.skip();
      return record;
    }
    this.#aggregate.add(value);
    return withMerged(record, this.#scores, { [this.metric]: value });
  }

  /** This instance's aggregate so far. */
  summary(): MetricSummary {
    return this.#aggregate.summary();
  }

  async close(): Promise<void> {
    this.logger.info(formatSummary(this.metric, this.#aggregate.summary()));
    if (this.#report !== undefined) await this.callService(this.#report, "add", this.metric, this.#aggregate.partial());
  }
}
