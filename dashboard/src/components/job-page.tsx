import { useEffect, useState } from "preact/hooks";
import type { ApiClient } from "../lib/api.js";
import { ACTIVE_STATES } from "../lib/levels.js";
import { useRates } from "../lib/rates.js";
import { operatorRoles } from "../lib/roles.js";
import { useJob } from "../lib/use-job.js";
import { useJobLog } from "../lib/use-job-log.js";
import { usePoll } from "../lib/use-poll.js";
import { Charts } from "./charts.js";
import { JobGraph } from "./job-graph.js";
import { JobHeader } from "./job-header.js";
import { LogPanel } from "./log-panel.js";
import { OperatorPanel } from "./operator-panel.js";
import { ServicesPanel } from "./services-panel.js";

// The JobManager samples a job every few seconds: asking more often would bring nothing new.
const HISTORY_REFRESH_MS = 4000;

/** A job's page: header and actions, live graph, charts, services and log. */
export function JobPage(props: { api: ApiClient; token: string; id: string }) {
  const { api, id } = props;
  const log = useJobLog(api, id);
  const job = useJob(api, props.token, id, log.push);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const status = job.status;
  const active = status !== undefined && ACTIVE_STATES.has(status.state);
  const rates = useRates(status);
  // Polled while the job runs; read once more when it ends (with the final sample), then kept.
  const history = usePoll(() => api.history(id), active ? HISTORY_REFRESH_MS : 0, [api, id, active], status !== undefined);
  useEffect(() => setSelected(undefined), [id]);

  if (!status) {
    return (
      <div class="job-page">
        <p>
          <a href="#/">← All jobs</a>
        </p>
        {job.error ? <p class="error">{(job.error as { status?: number }).status === 404 ? `No job ${id} on this JobManager (deleted, or removed by its retention policy).` : job.error.message}</p> : <p class="muted">Loading the job…</p>}
      </div>
    );
  }
  const op = selected === undefined ? undefined : status.operators.find((o) => o.name === selected);
  return (
    <div class="job-page">
      <p class="crumbs">
        <a href="#/">← All jobs</a>
      </p>
      <JobHeader api={api} status={status} streaming={job.streaming} onStatus={job.setStatus} />
      <section class="card graph-card" aria-label="Graph">
        <h2>Graph</h2>
        <JobGraph operators={status.operators ?? []} edges={status.edges} rates={rates} active={active} selected={op?.name} onSelect={setSelected} />
      </section>
      {op && <OperatorPanel op={op} onClose={() => setSelected(undefined)} />}
      <section class="card charts-card" aria-label="Charts">
        <h2>Over time</h2>
        <Charts history={history.value} error={history.error} sources={operatorRoles(status.operators ?? [], status.edges).sources} />
      </section>
      <ServicesPanel services={Array.isArray(status.serviceDetails) ? status.serviceDetails : []} liveInstances={Number(status.services) || 0} callRates={rates.calls} active={active} />
      <LogPanel log={log.log} />
    </div>
  );
}
