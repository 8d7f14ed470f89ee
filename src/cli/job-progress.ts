import type { JobStatus, OperatorStatus } from "../api/types.js";
import { formatCount, formatDuration } from "./format.js";
import { printable } from "./safe-text.js";

/** How far a job's sources have read, when every source that reports progress counts the same unit. */
export interface JobProgress {
  done: number;
  total: number;
  unit: "records" | "bytes";
  /** done / total, 0..1. */
  fraction: number;
}

/** The job's progress from its sources' (undefined when none knows its size). */
export function jobProgress(status: JobStatus): JobProgress | undefined {
  const sources = status.operators.filter((op) => op.progress);
  if (sources.length === 0) return undefined;
  // Sources counting different units cannot be added up: the least advanced one decides.
  const units = new Set(sources.map((op) => op.progress!.unit));
  if (units.size > 1) {
    const slowest = sources.map((op) => op.progress!).reduce((a, b) => (fractionOf(a) <= fractionOf(b) ? a : b));
    return { ...slowest, fraction: fractionOf(slowest) };
  }
  const done = sources.reduce((sum, op) => sum + op.progress!.done, 0);
  const total = sources.reduce((sum, op) => sum + op.progress!.total, 0);
  const progress = { done, total, unit: sources[0]!.progress!.unit };
  return { ...progress, fraction: fractionOf(progress) };
}

function fractionOf(progress: { done: number; total: number }): number {
  return progress.total > 0 ? Math.min(1, progress.done / progress.total) : 1;
}

/** The operator that holds the job back: the busiest one (busy at least half the time), with why. */
export interface Bottleneck {
  operator: OperatorStatus;
  busyMsPerSecond: number;
}

/** The busiest non-source operator, when one is busy at least half of the last seconds. */
export function bottleneckOf(status: JobStatus): Bottleneck | undefined {
  let best: Bottleneck | undefined;
  for (const op of status.operators) {
    if (op.kind === "batch" || op.kind === "source") continue;
    const busy = op.busyMsPerSecond ?? 0;
    if (busy >= 500 && (!best || busy > best.busyMsPerSecond)) best = { operator: op, busyMsPerSecond: busy };
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
    parts.push(`${Math.floor(progress.fraction * 100)}%`);
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
