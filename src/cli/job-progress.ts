import type { JobStatus, OperatorStatus } from "../api/types.js";
import { formatCount, formatDuration } from "./format.js";
import { printable } from "./safe-text.js";

/** How far a job is, from what its sources know of their size. */
export interface JobProgress {
  done: number;
  total: number;
  unit: "records" | "bytes";
  /** done / total, 0..1. */
  fraction: number;
  /**
   * `done`: records through to the end of the pipeline (one sized source, and only one-to-one
   * operators after it, so every record read reaches each sink); `read`: what the sources read,
   * which runs ahead of the work by what is queued and in flight.
   */
  measure: "done" | "read";
}

// Operators after which a record read is a record that reaches the sink, one for one.
const ONE_TO_ONE: ReadonlySet<string> = new Set(["map", "keyBy", "sink"]);

/** The job's progress (undefined when no source knows its size, or one source does not). */
export function jobProgress(status: JobStatus): JobProgress | undefined {
  const sources = status.operators.filter((op) => op.kind === "batch" || op.kind === "source");
  if (sources.length === 0 || sources.some((op) => !op.progress)) return undefined;
  const rest = status.operators.filter((op) => !sources.includes(op));
  const sinks = rest.filter((op) => op.kind === "sink");
  const only = sources.length === 1 ? sources[0]!.progress! : undefined;
  if (only?.unit === "records" && sinks.length > 0 && rest.every((op) => ONE_TO_ONE.has(op.kind))) {
    const done = Math.min(only.total, ...sinks.map((sink) => sink.recordsIn));
    return { done, total: only.total, unit: "records", fraction: fractionOf({ done, total: only.total }), measure: "done" };
  }
  // Sources counting different units cannot be added up: the least advanced one decides.
  const units = new Set(sources.map((op) => op.progress!.unit));
  if (units.size > 1) {
    const slowest = sources.map((op) => op.progress!).reduce((a, b) => (fractionOf(a) <= fractionOf(b) ? a : b));
    return { ...slowest, fraction: fractionOf(slowest), measure: "read" };
  }
  const done = sources.reduce((sum, op) => sum + op.progress!.done, 0);
  const total = sources.reduce((sum, op) => sum + op.progress!.total, 0);
  const progress = { done, total, unit: sources[0]!.progress!.unit };
  return { ...progress, fraction: fractionOf(progress), measure: "read" };
}

function fractionOf(progress: { done: number; total: number }): number {
  return progress.total > 0 ? Math.min(1, progress.done / progress.total) : 1;
}

/** The operator that holds the job back: the busiest one (busy at least half the time), with why. */
export interface Bottleneck {
  operator: OperatorStatus;
  busyMsPerSecond: number;
}

/**
 * The busiest non-source operator, when one is busy at least half of the last seconds. Operators
 * chained in one task share its time: among equally busy ones, the one waiting on the most async
 * work (latency times rate: its calls' share of each second) is the one holding the chain back.
 */
export function bottleneckOf(status: JobStatus): Bottleneck | undefined {
  let best: Bottleneck | undefined;
  let bestWait = -1;
  for (const op of status.operators) {
    if (op.kind === "batch" || op.kind === "source") continue;
    const busy = op.busyMsPerSecond ?? 0;
    if (busy < 500) continue;
    const wait = (op.latency?.meanMs ?? 0) * (op.recordsInPerSecond ?? 0) + (op.inFlight ?? 0);
    if (!best || busy > best.busyMsPerSecond || (busy === best.busyMsPerSecond && wait > bestWait)) {
      best = { operator: op, busyMsPerSecond: busy };
      bestWait = wait;
    }
  }
  return best;
}

/**
 * Estimates the time left from the progress of the last seconds (or since the start, until there
 * are enough readings): fed every status a display gets.
 */
export class EtaEstimator {
  readonly #readings: Array<{ runtimeMs: number; fraction: number }> = [];

  constructor(private readonly windowMs = 10_000) {}

  /** Takes a status; answers the estimated ms left, or undefined when nothing can be said yet. */
  update(status: JobStatus): number | undefined {
    const progress = jobProgress(status);
    if (!progress) return undefined;
    const now = { runtimeMs: status.runtimeMs, fraction: progress.fraction };
    const last = this.#readings.at(-1);
    if (!last || now.runtimeMs > last.runtimeMs) this.#readings.push(now);
    while (this.#readings.length > 2 && this.#readings[1]!.runtimeMs <= now.runtimeMs - this.windowMs) this.#readings.shift();
    if (progress.fraction >= 1) return 0;
    const base = this.#readings[0]!;
    const gained = now.fraction - base.fraction;
    const elapsed = now.runtimeMs - base.runtimeMs;
    if (gained > 0 && elapsed >= 500) return ((1 - now.fraction) * elapsed) / gained;
    // Not enough recent readings: the average pace since the job started.
    if (now.fraction > 0 && now.runtimeMs >= 500) return (now.runtimeMs * (1 - now.fraction)) / now.fraction;
    return undefined;
  }
}

/**
 * The line under a running job's headline: `42% · 1,260/3,000 records · ETA 12.5s · bottleneck: Ask
 * (busy 97%, 8 in flight)`; undefined when there is nothing to say.
 */
export function progressLine(status: JobStatus, etaMs: number | undefined): string | undefined {
  const parts: string[] = [];
  const progress = jobProgress(status);
  if (progress) {
    const read = progress.measure === "read" ? "read " : "";
    parts.push(`${read}${Math.floor(progress.fraction * 100)}%`);
    parts.push(progress.unit === "records" ? `${formatCount(progress.done)}/${formatCount(progress.total)} records` : `${formatBytes(progress.done)}/${formatBytes(progress.total)}`);
    if (etaMs !== undefined && progress.fraction < 1) parts.push(`ETA ${formatDuration(etaMs)}`);
  }
  const slow = bottleneckOf(status);
  if (slow) {
    const inFlight = slow.operator.inFlight ? `, ${formatCount(slow.operator.inFlight)} in flight` : "";
    parts.push(`bottleneck: ${printable(slow.operator.name)} (busy ${Math.round(slow.busyMsPerSecond / 10)}%${inFlight})`);
  }
  return parts.length > 0 ? parts.join(" · ") : undefined;
}

/** `1536` -> `1.5 KB`. */
function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
