import { useRef } from "preact/hooks";
import type { JobStatus } from "./types.js";

/** Per-second rates between two statuses of a job, by operator (records out) and service (calls). */
export interface Rates {
  recordsOut: Map<string, number>;
  calls: Map<string, number>;
}

/** The rates between `before` and `after`, taken `seconds` apart; empty when they cannot be told. */
export function ratesBetween(before: JobStatus | undefined, after: JobStatus, seconds: number): Rates {
  const rates: Rates = { recordsOut: new Map(), calls: new Map() };
  if (!before || !(seconds > 0)) return rates;
  const earlierOut = new Map(before.operators.map((o) => [o.name, o.recordsOut]));
  for (const o of after.operators) {
    const earlier = earlierOut.get(o.name);
    if (typeof earlier === "number" && o.recordsOut >= earlier) rates.recordsOut.set(o.name, (o.recordsOut - earlier) / seconds);
  }
  const earlierCalls = new Map((before.serviceDetails ?? []).map((s) => [s.name, s.calls]));
  for (const s of after.serviceDetails ?? []) {
    const earlier = earlierCalls.get(s.name);
    if (typeof earlier === "number" && s.calls >= earlier) rates.calls.set(s.name, (s.calls - earlier) / seconds);
  }
  return rates;
}

/**
 * Rates over the last stretch of at least a second of a followed job's statuses: for a runtime
 * that does not report its own rates, and for service calls per second (the status counts calls only).
 */
export function useRates(status: JobStatus | undefined): Rates {
  const last = useRef<{ status: JobStatus; at: number } | undefined>(undefined);
  const rates = useRef<Rates>({ recordsOut: new Map(), calls: new Map() });
  if (!status) return rates.current;
  const now = performance.now();
  if (!last.current || last.current.status.id !== status.id) {
    last.current = { status, at: now };
    rates.current = { recordsOut: new Map(), calls: new Map() };
  } else if (now - last.current.at >= 1000 && last.current.status !== status) {
    rates.current = ratesBetween(last.current.status, status, (now - last.current.at) / 1000);
    last.current = { status, at: now };
  }
  return rates.current;
}
