import type { JobStatus } from "../api/types.js";
import { TERMINAL_STATES } from "../api/job-state.js";

/** How long a JobManager keeps ended jobs (with their logs and bundles). */
export interface Retention {
  /** Ended jobs kept at most; the oldest go first (default 1000). */
  maxJobs: number;
  /** Ended jobs older than this are removed (default 7 days); Infinity keeps them. */
  maxAgeMs: number;
}

/** The defaults of {@link Retention}. */
export const DEFAULT_RETENTION: Retention = { maxJobs: 1000, maxAgeMs: 7 * 24 * 3600 * 1000 };

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a duration like `7d`, `12h`, `30m`, `90s` or `500ms` into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text);
  if (!match) throw new Error(`'${text}' is not a duration: expected a number and a unit (ms, s, m, h, d, w), e.g. 7d or 12h`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

/**
 * The ended jobs a retention policy removes from `jobs` (oldest first, as the store lists them):
 * those past the newest `maxJobs` ended ones, and those that ended more than `maxAgeMs` ago.
 * A job that has not ended, or whose process is still `live`, is never chosen.
 */
export function expiredJobs(jobs: JobStatus[], retention: Retention, now: number, live: (id: string) => boolean): string[] {
  const ended = jobs.filter((job) => TERMINAL_STATES.has(job.state) && !live(job.id));
  const excess = Math.max(0, ended.length - retention.maxJobs);
  return ended
    .filter((job, index) => index < excess || now - Date.parse(job.endedAt ?? job.submittedAt) > retention.maxAgeMs)
    .map((job) => job.id);
}
