import { ACTIVE_STATES } from "./levels.js";
import type { ListFilter } from "./route.js";
import type { JobStatus } from "./types.js";

/** Jobs a page of the list shows. */
export const PAGE_SIZE = 15;

/** The jobs `filter` keeps (state, or "active"; part of the name, or the start of the id), newest first. */
export function filterJobs(jobs: JobStatus[], filter: Pick<ListFilter, "state" | "query">): JobStatus[] {
  const query = filter.query.trim().toLowerCase();
  return jobs
    .filter((j) => !filter.state || (filter.state === "active" ? ACTIVE_STATES.has(j.state) : j.state === filter.state))
    .filter((j) => !query || String(j.name).toLowerCase().includes(query) || String(j.id).startsWith(query))
    .sort((a, b) => String(b.submittedAt).localeCompare(String(a.submittedAt)));
}
