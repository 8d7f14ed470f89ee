import type { JobStatus } from "../api/types.js";
import type { JobHistory, OperatorSeries, Series, ServiceSeries } from "./job-history.js";

/** Settings of a {@link MetricsHistory}. */
export interface MetricsHistoryOptions {
  /** How often a sample is taken (default 2000 ms). */
  intervalMs?: number;
  /** The most samples kept (default 600); past it neighbouring samples are merged, the finest first. */
  maxPoints?: number;
}

/** The default sampling interval of a job's history, ms. */
export const DEFAULT_HISTORY_INTERVAL_MS = 2000;
/** The default bound on a job's history samples. */
export const DEFAULT_HISTORY_POINTS = 600;

// A forged or odd status cannot grow a history without end: series beyond these are not kept.
const MAX_OPERATOR_SERIES = 64;
const MAX_SERVICE_SERIES = 32;

type OperatorField = Exclude<keyof OperatorSeries, "name">;
type ServiceField = Exclude<keyof ServiceSeries, "name">;

// How two neighbouring samples become one when the history thins: rates and levels average
// (weighted by the time each covers), a tail latency keeps the worse of the two (a spike must not
// vanish as the history ages).
const OPERATOR_MERGE: Record<OperatorField, Merge> = { recordsInPerSecond: mean, recordsOutPerSecond: mean, backlog: mean, busyMsPerSecond: mean, backPressuredMsPerSecond: mean };
const SERVICE_MERGE: Record<ServiceField, Merge> = { callsPerSecond: mean, latencyP50Ms: mean, latencyP99Ms: max };

/** Samples a live job's status into a bounded {@link JobHistory}. */
export class MetricsHistory {
  readonly intervalMs: number;
  readonly maxPoints: number;
  readonly #t: number[] = [];
  // The time each sample covers (ms): one interval when taken, the sum of the two when merged.
  readonly #covers: number[] = [];
  readonly #operators = new Map<string, OperatorSeries>();
  readonly #services = new Map<string, ServiceSeries>();
  // The counters at the last sample, for rates over the interval since.
  #last: { at: number; recordsIn: Map<string, number>; recordsOut: Map<string, number>; calls: Map<string, number> } | undefined;

  constructor(options: MetricsHistoryOptions = {}) {
    this.intervalMs = options.intervalMs ?? DEFAULT_HISTORY_INTERVAL_MS;
    this.maxPoints = Math.max(4, options.maxPoints ?? DEFAULT_HISTORY_POINTS);
  }

  /** Samples kept now. */
  get size(): number {
    return this.#t.length;
  }

  /**
   * Samples `status` at `at` (ms since the epoch) when an interval has passed since the last
   * sample; a `final` one (the job's end) is taken sooner, though not so soon that its rates
   * would be those of a few ms. Answers whether it took the sample.
   */
  sample(status: JobStatus, at: number, options: { final?: boolean } = {}): boolean {
    const since = this.#last === undefined ? Infinity : at - this.#last.at;
    if (since < (options.final ? this.intervalMs / 4 : this.intervalMs)) return false;
    if (this.#t.length >= this.maxPoints) this.#mergeFinest();
    const seconds = since / 1000;
    const index = this.#t.length;
    this.#t.push(at);
    this.#covers.push(Number.isFinite(since) ? since : this.intervalMs);
    const recordsIn = new Map<string, number>();
    const recordsOut = new Map<string, number>();
    for (const op of status.operators ?? []) {
      const series = this.#series(this.#operators, op.name, index, MAX_OPERATOR_SERIES, operatorSeries);
      if (!series || series.recordsOutPerSecond.length > index) continue; // a name listed twice counts once
      recordsIn.set(op.name, op.recordsIn);
      recordsOut.set(op.name, op.recordsOut);
      series.recordsInPerSecond.push(rate(op.recordsIn, this.#last?.recordsIn.get(op.name), seconds) ?? value(op.recordsInPerSecond));
      series.recordsOutPerSecond.push(rate(op.recordsOut, this.#last?.recordsOut.get(op.name), seconds) ?? value(op.recordsOutPerSecond));
      series.backlog.push(value(op.backlog ?? sum(op.instances?.map((i) => i.backlog))));
      series.busyMsPerSecond.push(value(op.busyMsPerSecond));
      series.backPressuredMsPerSecond.push(value(op.backPressuredMsPerSecond));
    }
    const calls = new Map<string, number>();
    for (const service of status.serviceDetails ?? []) {
      const series = this.#series(this.#services, service.name, index, MAX_SERVICE_SERIES, serviceSeries);
      if (!series || series.callsPerSecond.length > index) continue;
      calls.set(service.name, service.calls);
      series.callsPerSecond.push(rate(service.calls, this.#last?.calls.get(service.name), seconds));
      series.latencyP50Ms.push(value(service.latency?.p50Ms));
      series.latencyP99Ms.push(value(service.latency?.p99Ms));
    }
    // Series the status no longer mentions get a gap, so every column stays as long as `t`.
    for (const series of [...this.#operators.values(), ...this.#services.values()]) padTo(series, index + 1);
    this.#last = { at, recordsIn, recordsOut, calls };
    return true;
  }

  /** The history as the API serves and the store keeps it. */
  toJSON(): JobHistory {
    return {
      intervalMs: this.intervalMs,
      t: [...this.#t],
      operators: [...this.#operators.values()].map((s) => copySeries(s)),
      services: [...this.#services.values()].map((s) => copySeries(s)),
    };
  }

  // The series of `name`, created (with gaps for the samples before it) while fewer than `limit` exist.
  #series<S extends { name: string }>(map: Map<string, S>, name: string, index: number, limit: number, create: (name: string) => S): S | undefined {
    let series = map.get(name);
    if (!series && map.size < limit) {
      series = create(name);
      padTo(series, index);
      map.set(name, series);
    }
    return series;
  }

  // Merges the two neighbouring samples that together cover the least time, the oldest such pair
  // on a tie: old stretches get coarse before recent ones, and no sample ends up covering a large
  // share of the job's life (as halving the oldest part over and over would do).
  #mergeFinest(): void {
    const covers = this.#covers;
    let best = 0;
    for (let i = 1; i < covers.length - 1; i++) if (covers[i]! + covers[i + 1]! < covers[best]! + covers[best + 1]!) best = i;
    const weights: [number, number] = [covers[best]!, covers[best + 1]!];
    const merge = (column: Series, how: Merge) => column.splice(best, 2, how(column[best] ?? null, column[best + 1] ?? null, weights));
    // The merged sample stands at the later time: the end of the interval it now covers.
    this.#t.splice(best, 1);
    covers.splice(best, 2, weights[0] + weights[1]);
    for (const series of this.#operators.values()) for (const field of keysOf(OPERATOR_MERGE)) merge(series[field], OPERATOR_MERGE[field]);
    for (const series of this.#services.values()) for (const field of keysOf(SERVICE_MERGE)) merge(series[field], SERVICE_MERGE[field]);
  }
}

/** A history with no samples (a job that never reported, or one kept from before histories). */
export function emptyHistory(intervalMs = DEFAULT_HISTORY_INTERVAL_MS): JobHistory {
  return { intervalMs, t: [], operators: [], services: [] };
}

// --- internal ---

type Merge = (a: number | null, b: number | null, weights: [number, number]) => number | null;

function mean(a: number | null, b: number | null, [wa, wb]: [number, number]): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return wa + wb > 0 ? round((a * wa + b * wb) / (wa + wb)) : round((a + b) / 2);
}

function max(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function operatorSeries(name: string): OperatorSeries {
  return { name, recordsInPerSecond: [], recordsOutPerSecond: [], backlog: [], busyMsPerSecond: [], backPressuredMsPerSecond: [] };
}

function serviceSeries(name: string): ServiceSeries {
  return { name, callsPerSecond: [], latencyP50Ms: [], latencyP99Ms: [] };
}

// Every column of `series` (each array field) filled with gaps up to `length`.
function padTo(series: object, length: number): void {
  for (const column of Object.values(series)) if (Array.isArray(column)) while (column.length < length) column.push(null);
}

function copySeries<S extends object>(series: S): S {
  return Object.fromEntries(Object.entries(series).map(([key, v]) => [key, Array.isArray(v) ? [...v] : v])) as S;
}

function keysOf<K extends string>(record: Record<K, unknown>): K[] {
  return Object.keys(record) as K[];
}

// The counter's growth per second since the last sample; none for the first sample, or a counter that went back.
function rate(now: number, before: number | undefined, seconds: number): number | null {
  if (before === undefined || !Number.isFinite(seconds) || seconds <= 0 || now < before) return null;
  return round((now - before) / seconds);
}

function value(v: number | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? round(v) : null;
}

function sum(values: number[] | undefined): number | undefined {
  return values && values.length > 0 ? values.reduce((a, b) => a + b, 0) : undefined;
}

// Two decimals: a chart needs no more, and the stored history stays compact.
function round(v: number): number {
  return Math.round(v * 100) / 100;
}
