import { messageOf } from "../api/errors.js";
import { METRIC_COUNTERS } from "../api/service.js";
import type { Logger } from "../api/types.js";
import { isThenable } from "./thenable.js";

/** At most this many metrics of one service reach the status; the rest are left out. */
export const MAX_SERVICE_METRICS = 64;

/** The longest metric name kept (longer names are left out, not cut: cut names could collide). */
export const MAX_METRIC_NAME = 64;

/** What made cleanMetrics() leave something out. */
export interface MetricsProblem {
  kind: "shape" | "value" | "name" | "count";
  message: string;
}

/** A service's published counters, by name. */
export type ServiceMetrics = Record<string, number>;

/** How long the last sample, taken after cleanup(), waits for an async metrics(). */
const FINAL_SAMPLE_MS = 1000;

/** Whether `name` may name a metric: 1 to MAX_METRIC_NAME characters, and no prototype key. */
export function isMetricName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_METRIC_NAME && name !== "__proto__";
}

/**
 * The metrics of `published` that a status may carry: finite numbers under valid names, at most
 * MAX_SERVICE_METRICS of them, `base` first (what `published` names too, `published` decides);
 * `problem` says what was left out. `metrics` is undefined when nothing is left.
 */
export function cleanMetrics(published: unknown, base?: ReadonlyMap<string, number>): { metrics: ServiceMetrics | undefined; problem?: MetricsProblem } {
  const merged = new Map<string, unknown>(base);
  let problem: MetricsProblem | undefined;
  const found = (kind: MetricsProblem["kind"], message: string) => void (problem ??= { kind, message });
  if (published !== undefined) {
    if (typeof published !== "object" || published === null || Array.isArray(published)) {
      found("shape", `metrics() returned ${Array.isArray(published) ? "an array" : published === null ? "null" : typeof published}, not an object of numbers`);
    } else {
      // for...in stops early on a huge object; only own keys count.
      let seen = 0;
      for (const key in published) {
        if (!Object.hasOwn(published, key)) continue;
        if (++seen > MAX_SERVICE_METRICS * 4) break;
        merged.set(key, (published as Record<string, unknown>)[key]);
      }
    }
  }
  let metrics: ServiceMetrics | undefined;
  let kept = 0;
  for (const [name, value] of merged) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      found("value", `metric '${name.slice(0, MAX_METRIC_NAME)}' is ${typeof value === "number" ? value : `a ${typeof value}`}, not a finite number: it is left out`);
      continue;
    }
    if (!isMetricName(name)) {
      found("name", `a metric name has 1 to ${MAX_METRIC_NAME} characters (and is not __proto__): '${name.slice(0, MAX_METRIC_NAME)}' (${name.length}) is left out`);
      continue;
    }
    if (kept === MAX_SERVICE_METRICS) {
      found("count", `more than ${MAX_SERVICE_METRICS} metrics: the rest are left out`);
      break;
    }
    (metrics ??= {})[name] = value;
    kept++;
  }
  return problem === undefined ? { metrics } : { metrics, problem };
}

/**
 * Samples one service instance's counters for the job's status: what its `metrics()` returns,
 * over what it counted with BaseService's `incrementMetric()`/`setMetric()`. Never throws: a
 * failing `metrics()` is logged once (per kind of problem) and its last good answer stands in for
 * it. An async `metrics()` is not awaited: a snapshot shows the last value it resolved to, with
 * one read in flight at most.
 */
export class MetricsSampler {
  #last: ServiceMetrics | undefined;
  /** What metrics() answered last (before cleaning), used again when it fails. */
  #published: unknown;
  #pending = false;
  // Reads are numbered: an async read that resolves late never replaces a newer value.
  #reads = 0;
  #stored = 0;
  readonly #reported = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** The last values sampled (kept once the service is gone). */
  get last(): ServiceMetrics | undefined {
    return this.#last;
  }

  /** Samples `instance` now; an async metrics() updates the values when it resolves. */
  sample(instance: object): ServiceMetrics | undefined {
    if (this.#pending) return this.#last;
    const metrics = (instance as { metrics?: unknown }).metrics;
    if (this.#silent(instance, metrics)) return this.#last;
    const { value, seq } = this.#read(instance, metrics, false);
    if (!isThenable(value)) {
      this.#store(instance, value, seq);
      return this.#last;
    }
    this.#pending = true;
    Promise.resolve(value).then(
      (answer) => {
        this.#pending = false;
        this.#store(instance, answer, seq);
      },
      (error: unknown) => {
        this.#pending = false;
        this.#report("rejected", `metrics() rejected: ${messageOf(error)}`);
      },
    );
    return this.#last;
  }

  /**
   * The last sample, after the service's cleanup(): an async metrics() is awaited (for a second
   * at most). A metrics() failing now (it may read what cleanup released) is logged at debug
   * level only, and its previous answer stands in for it.
   */
  async sampleFinal(instance: object): Promise<ServiceMetrics | undefined> {
    const metrics = (instance as { metrics?: unknown }).metrics;
    if (this.#silent(instance, metrics)) return this.#last;
    let { value, seq } = this.#read(instance, metrics, true);
    if (isThenable(value)) {
      let timer: NodeJS.Timeout | undefined;
      try {
        value = await Promise.race([
          Promise.resolve(value),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`metrics() did not answer within ${FINAL_SAMPLE_MS} ms`)), FINAL_SAMPLE_MS))),
        ]);
      } catch (error) {
        this.logger.debug("metrics() after cleanup(): %s", messageOf(error));
        value = FAILED;
      } finally {
        clearTimeout(timer);
      }
    }
    this.#store(instance, value, seq);
    return this.#last;
  }

  /**
   * Whether `instance` has nothing to publish (no metrics(), no counters) and was never read: a
   * sample then has nothing to read, and the last values stay none. Most services are like that,
   * and their samples need no code compiled. Once read, a service is always read (a read may be
   * in flight, and a newer one must supersede it).
   */
  #silent(instance: object, metrics: unknown): boolean {
    return this.#reads === 0 && typeof metrics !== "function" && !((instance as { [METRIC_COUNTERS]?: unknown })[METRIC_COUNTERS] instanceof Map);
  }

  // `metrics` is the instance's metrics property, read once per sample by the caller.
  #read(instance: object, metrics: unknown, afterCleanup: boolean): { value: unknown; seq: number } {
    const seq = ++this.#reads;
    if (typeof metrics !== "function") return { value: undefined, seq };
    try {
      return { value: metrics.call(instance), seq };
    } catch (error) {
      if (afterCleanup) this.logger.debug("metrics() after cleanup() threw: %s", messageOf(error));
      else this.#report("threw", `metrics() threw: ${messageOf(error)}`);
      return { value: FAILED, seq };
    }
  }

  #store(instance: object, answer: unknown, seq: number): void {
    if (seq < this.#stored) return;
    this.#stored = seq;
    if (answer !== FAILED) this.#published = answer;
    const counters = (instance as { [METRIC_COUNTERS]?: unknown })[METRIC_COUNTERS];
    const cleaned = cleanMetrics(this.#published, counters instanceof Map ? counters : undefined);
    if (cleaned.problem !== undefined) this.#report(cleaned.problem.kind, cleaned.problem.message);
    this.#last = cleaned.metrics;
  }

  // Once per kind: metrics are sampled every second, a broken one must not flood the log.
  #report(kind: string, message: string): void {
    if (this.#reported.has(kind)) return;
    this.#reported.add(kind);
    this.logger.warn("%s (said once; the job's status shows the metrics it can)", message);
  }
}

const FAILED = Symbol("failed");
