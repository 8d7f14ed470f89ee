import { useRef } from "preact/hooks";
import type { JobStatus } from "./types.js";

/** Per-second rates between two statuses of a job, by operator (records in and out) and service (calls). */
export interface Rates {
  recordsIn: Map<string, number>;
  recordsOut: Map<string, number>;
  calls: Map<string, number>;
}

/** The rates between `before` and `after`, taken `seconds` apart; empty when they cannot be told. */
export function ratesBetween(before: JobStatus | undefined, after: JobStatus, seconds: number): Rates {
  const rates: Rates = { recordsIn: new Map(), recordsOut: new Map(), calls: new Map() };
  if (!before || !(seconds > 0)) return rates;
  const earlier = new Map(before.operators.map((o) => [o.name, o]));
  for (const o of after.operators) {
    const then = earlier.get(o.name);
    if (!then) continue;
    if (o.recordsIn >= then.recordsIn) rates.recordsIn.set(o.name, (o.recordsIn - then.recordsIn) / seconds);
    if (o.recordsOut >= then.recordsOut) rates.recordsOut.set(o.name, (o.recordsOut - then.recordsOut) / seconds);
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
  const rates = useRef<Rates>(noRates());
  if (!status) return rates.current;
  const now = performance.now();
  if (!last.current || last.current.status.id !== status.id) {
    last.current = { status, at: now };
    rates.current = noRates();
  } else if (now - last.current.at >= 1000 && last.current.status !== status) {
    rates.current = ratesBetween(last.current.status, status, (now - last.current.at) / 1000);
    last.current = { status, at: now };
  }
  return rates.current;
}

function noRates(): Rates {
  return { recordsIn: new Map(), recordsOut: new Map(), calls: new Map() };
}
