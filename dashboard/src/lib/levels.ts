import type { JobState } from "./types.js";

/** Backpressure as Flink shows it: the share of time an operator waits to send downstream. */
export type BackpressureLevel = "ok" | "low" | "high" | "unknown";

/** ok up to 10% of the time, low up to 50%, high above (Flink's thresholds). */
export function backpressureLevel(msPerSecond: number | undefined): BackpressureLevel {
  if (typeof msPerSecond !== "number" || !Number.isFinite(msPerSecond)) return "unknown";
  if (msPerSecond <= 100) return "ok";
  return msPerSecond <= 500 ? "low" : "high";
}

/** How busy an operator is, in five steps from idle (0) to saturated (4); -1 when unknown. */
export function busyStep(msPerSecond: number | undefined): number {
  if (typeof msPerSecond !== "number" || !Number.isFinite(msPerSecond)) return -1;
  return Math.max(0, Math.min(4, Math.floor(msPerSecond / 200)));
}

/** States in which a job's process may still work. */
export const ACTIVE_STATES: ReadonlySet<JobState> = new Set(["created", "running", "finishing"]);

/** States a job ends in. */
export const ENDED_STATES: ReadonlySet<JobState> = new Set(["finished", "stopped", "failed"]);

/** Every state, in lifecycle order (the list's filter offers them). */
export const ALL_STATES: readonly JobState[] = ["created", "running", "finishing", "finished", "stopped", "failed"];
