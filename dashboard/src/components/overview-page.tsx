import type { ApiClient } from "../lib/api.js";
import type { ListFilter } from "../lib/route.js";
import { usePoll } from "../lib/use-poll.js";
import { JobList } from "./job-list.js";
import { ServerOverview } from "./server-overview.js";

const REFRESH_MS = 3000;

/** The home page: the server's overview above the job list. */
export function OverviewPage(props: { api: ApiClient; filter: ListFilter }) {
  const info = usePoll(() => props.api.info(), REFRESH_MS, [props.api]);
  const jobs = usePoll(() => props.api.jobs(), REFRESH_MS, [props.api]);
  return (
    <div class="overview">
      <ServerOverview info={info.value} error={info.error} jobs={jobs.value ?? []} />
      <JobList jobs={jobs.value} error={jobs.error} filter={props.filter} />
    </div>
  );
}
