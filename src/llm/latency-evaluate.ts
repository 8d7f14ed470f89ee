import { Evaluate, type EvaluateOptions } from "./evaluate.js";
import { fieldOf, MissingFieldError } from "./record-fields.js";

/** Options of a LatencyEvaluate. */
export interface LatencyEvaluateOptions extends Omit<EvaluateOptions, "prediction" | "references"> {
  /** Field with the start time in epoch milliseconds (default `startedAt`, as `markTime()` sets it). */
  start?: string;
  /** Field with the end time; when omitted, the end is the moment the record reaches this evaluator. */
  end?: string;
  /** Field holding the latency itself in milliseconds; replaces `start` and `end`. */
  duration?: string;
}

/** Now, in epoch milliseconds with sub-millisecond precision: comparable across the processes of one host. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A map that stamps each record with the current time (epoch ms) in `field` (default `startedAt`):
 * put it before the stage whose latency `LatencyEvaluate` should measure.
 * @example stream.map(markTime()).map(OpenAIGenerator, ...).map(LatencyEvaluate)
 */
export function markTime<T extends object>(field = "startedAt"): (record: T) => T & Record<string, number> {
  return (record) => ({ ...record, [field]: wallClockMs() }) as T & Record<string, number>;
}

/**
 * Adds `latencyMs` to each record with p50/p90/p99 in the aggregate. A downstream operator cannot
 * time the call before it, so latency comes from timestamps the records carry: from `start` (set
 * by `markTime()` or by the producer) to `end` or to the record's arrival here, which includes
 * the time it queued between stages; or from a `duration` field a stage measured itself. Clocks
 * of different hosts are not compared exactly: stamp and evaluate on one host for sub-ms numbers.
 */
export class LatencyEvaluate extends Evaluate {
  readonly #start: string;
  readonly #end: string | undefined;
  readonly #duration: string | undefined;

  constructor(options: LatencyEvaluateOptions = {}) {
    super(options, { metric: "latencyMs", percentiles: true });
    this.#start = options.start ?? "startedAt";
    this.#end = options.end;
    this.#duration = options.duration;
  }

  protected get needs(): string {
    return this.#duration !== undefined ? `'${this.#duration}' (milliseconds)` : `'${this.#start}'${this.#end ? ` and '${this.#end}'` : ""} (epoch milliseconds)`;
  }

  protected score(record: object): number {
    if (this.#duration !== undefined) return this.#number(record, this.#duration);
    const end = this.#end === undefined ? wallClockMs() : this.#number(record, this.#end);
    return Math.max(0, end - this.#number(record, this.#start));
  }

  #number(record: object, field: string): number {
    const value = fieldOf(record, field);
    if (typeof value !== "number" || !Number.isFinite(value)) throw new MissingFieldError(field, "number of milliseconds");
    return value;
  }
}
