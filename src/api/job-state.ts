import type { JobState } from "./types.js";

/** The states a job ends in: `finished` (by itself), `stopped` (by request), `failed`. */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(["finished", "stopped", "failed"]);
