import { count, duration, shortId, time } from "../lib/format.js";
import { filterJobs, PAGE_SIZE } from "../lib/filter-jobs.js";
import { ALL_STATES } from "../lib/levels.js";
import { jobHash, navigate, type ListFilter } from "../lib/route.js";
import type { JobStatus } from "../lib/types.js";
import { StateBadge } from "./state-badge.js";

/** The job list: state and name filters, newest first, a page at a time; each row links to its job. */
export function JobList(props: { jobs: JobStatus[] | undefined; error: Error | undefined; filter: ListFilter }) {
  const { filter } = props;
  const matching = filterJobs(props.jobs ?? [], filter);
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  const page = Math.min(filter.page, pages);
  const shown = matching.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const go = (change: Partial<ListFilter>, replace = false) => navigate({ name: "overview", filter: { ...filter, page: 1, ...change } }, replace);

  return (
    <section class="card job-list" aria-label="Jobs">
      <div class="list-head">
        <h2>Jobs</h2>
        <div class="filters">
          <label>
            State{" "}
            <select name="state" value={filter.state} onChange={(e) => go({ state: e.currentTarget.value })}>
              <option value="">all</option>
              <option value="active">active</option>
              {ALL_STATES.map((state) => (
                <option key={state} value={state}>
                  {state}
                </option>
              ))}
            </select>
          </label>
          <label>
            Name{" "}
            <input name="query" type="search" placeholder="name or id" value={filter.query} onInput={(e) => go({ query: e.currentTarget.value }, true)} />
          </label>
        </div>
      </div>
      {props.error && <p class="error">Refresh failed: {props.error.message}</p>}
      {!props.jobs ? (
        <p class="muted">Loading jobs…</p>
      ) : matching.length === 0 ? (
        <p class="muted empty">{props.jobs.length === 0 ? "No jobs yet: submit one with sage job submit <pipeline>." : "No job matches these filters."}</p>
      ) : (
        <div class="table-wrap">
          <table class="jobs">
            <thead>
              <tr>
                <th>Job</th>
                <th>State</th>
                <th>Submitted</th>
                <th>Runtime</th>
                <th class="num">Tasks</th>
                <th>Platform</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((job) => (
                <tr key={job.id} data-job-id={job.id}>
                  <td>
                    <a href={jobHash(job.id)} class="job-link">
                      {String(job.name)}
                    </a>{" "}
                    <span class="muted mono">{shortId(String(job.id))}</span>
                  </td>
                  <td>
                    <StateBadge state={job.state} />
                  </td>
                  <td>{time(job.submittedAt)}</td>
                  <td>{duration(job.runtimeMs)}</td>
                  <td class="num">{count(job.tasks)}</td>
                  <td>{String(job.platform)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {matching.length > 0 && (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={page <= 1} onClick={() => go({ page: page - 1 })}>
            ← Newer
          </button>
          <span>
            Page {page} of {pages} · {count(matching.length)} job{matching.length === 1 ? "" : "s"}
          </span>
          <button type="button" disabled={page >= pages} onClick={() => go({ page: page + 1 })}>
            Older →
          </button>
        </nav>
      )}
    </section>
  );
}
