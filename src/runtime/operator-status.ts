import type { InstanceStatus, OperatorStatus } from "../api/types.js";
import type { OperatorSpec } from "../graph/execution-graph.js";
import { LatencyHistogram } from "./latency-histogram.js";
import type { OperatorCounters } from "./metrics.js";
import { RateWindow } from "./rate-window.js";
import { monotonicMs } from "./monotonic-clock.js";

/** Instances one status lists (operator by operator, whole operators only); beyond, only aggregates. */
export const MAX_LISTED_INSTANCES = 1024;

/**
 * Builds the operators' part of a job status from their instances' counters: each instance's
 * totals, rates and time shares (over a window this sampler keeps per instance), the backlog of
 * its task's inbox and its async latency, and per operator the sums, the worst time shares and the
 * merged latency.
 */
export class OperatorSampler {
  readonly #windows = new WeakMap<OperatorCounters, RateWindow>();

  /**
   * The status of `op` from `instances`; `live` false (an ended job) leaves rates and shares at 0.
   * Its instances are listed while `listed.left` (shared by one status's operators) allows: a
   * status stays small however parallel the job (the aggregates always count every instance).
   */
  sample(op: OperatorSpec, instances: readonly OperatorCounters[], live: boolean, listed: { left: number }, workers?: string[], now = monotonicMs()): OperatorStatus {
    let recordsIn = 0;
    let recordsOut = 0;
    let errors = 0;
    let inFlight = 0;
    let backlog = 0;
    let inRate = 0;
    let outRate = 0;
    let backPressured = 0;
    let busy = 0;
    let latency: LatencyHistogram | undefined;
    const statuses: InstanceStatus[] = [];
    for (const c of instances) {
      const instance = this.#instance(c, live, now);
      statuses.push(instance);
      recordsIn += c.recordsIn;
      recordsOut += c.recordsOut;
      errors += c.errors;
      inFlight += instance.inFlight;
      backlog += instance.backlog;
      inRate += instance.recordsInPerSecond;
      outRate += instance.recordsOutPerSecond;
      backPressured = Math.max(backPressured, instance.backPressuredMsPerSecond);
      busy = Math.max(busy, instance.busyMsPerSecond);
      if (c.latency && c.latency.count > 0) (latency ??= new LatencyHistogram()).merge(c.latency);
    }
    statuses.sort((a, b) => a.index - b.index);
    const list = statuses.length <= listed.left;
    if (list) listed.left -= statuses.length;
    const progress = instances.length > 0 ? sourceProgress(instances) : undefined;
    return {
      name: op.name,
      kind: op.kind,
      parallelism: op.parallelism,
      recordsIn,
      recordsOut,
      errors,
      ...(workers && { workers }),
      recordsInPerSecond: round(inRate),
      recordsOutPerSecond: round(outRate),
      inFlight,
      backlog,
      backPressuredMsPerSecond: backPressured,
      busyMsPerSecond: busy,
      ...(latency && { latency: latency.summary(true) }),
      ...(progress && { progress }),
      ...(list && { instances: statuses }),
    };
  }

  #instance(c: OperatorCounters, live: boolean, now: number): InstanceStatus {
    const reading = c.clock?.read(now);
    let window = this.#windows.get(c);
    if (!window) this.#windows.set(c, (window = new RateWindow()));
    const rates = window.observe({
      at: now,
      recordsIn: c.recordsIn,
      recordsOut: c.recordsOut,
      elapsedMs: reading?.elapsedMs ?? 0,
      idleMs: reading?.idleMs ?? 0,
      backPressuredMs: reading?.backPressuredMs ?? 0,
      ...(reading?.stopped && { stopped: true }),
    });
    const backlog = live ? (reading?.backlog ?? 0) : 0;
    return {
      index: c.index,
      recordsIn: c.recordsIn,
      recordsOut: c.recordsOut,
      errors: c.errors,
      recordsInPerSecond: live ? round(rates.recordsInPerSecond) : 0,
      recordsOutPerSecond: live ? round(rates.recordsOutPerSecond) : 0,
      inFlight: live ? c.inFlight : 0,
      backlog,
      backlogFill: reading && reading.capacity > 0 ? round(backlog / reading.capacity) : 0,
      backPressuredMsPerSecond: live ? rates.backPressuredMsPerSecond : 0,
      busyMsPerSecond: live ? rates.busyMsPerSecond : 0,
      idleMsPerSecond: live ? rates.idleMsPerSecond : 0,
      ...(c.latency && c.latency.count > 0 && { latency: c.latency.summary() }),
      ...(c.worker !== undefined && { worker: c.worker }),
    };
  }
}

// A source of several instances is as far as all of them together.
function sourceProgress(instances: readonly OperatorCounters[]): OperatorStatus["progress"] {
  let done = 0;
  let total = 0;
  let unit: "records" | "bytes" | undefined;
  for (const c of instances) {
    const p = c.progress?.();
    if (!p || (unit !== undefined && p.unit !== unit)) return undefined;
    unit = p.unit;
    done += p.done;
    total += p.total;
  }
  return unit === undefined ? undefined : { done, total, unit };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
