import type { JobState, JobStatus } from "../api/types.js";
import { TERMINAL_STATES } from "../api/job-state.js";

const STATE_ORDER: Record<JobState, number> = { created: 0, running: 1, finishing: 2, finished: 3, stopped: 3, failed: 3 };

/**
 * Why a status a job process reports cannot follow the one the server holds, if it cannot: a
 * job's state only moves forward, and a terminal one is final (a later report may only tell that
 * services it kept were released).
 */
export function statusRegression(current: JobStatus, next: JobStatus): string | undefined {
  if (TERMINAL_STATES.has(current.state)) {
    if (next.state !== current.state) return `the job already ended ${current.state}, it cannot become ${next.state}`;
    if (next.services > current.services || next.tasks > 0) return "an ended job cannot start tasks or services again";
    return undefined;
  }
  if (STATE_ORDER[next.state] < STATE_ORDER[current.state]) return `a job cannot go back from ${current.state} to ${next.state}`;
  return undefined;
}
