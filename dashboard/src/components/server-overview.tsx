import { Fact } from "./fact.js";
import { count, duration, shortId } from "../lib/format.js";
import { ALL_STATES } from "../lib/levels.js";
import { jobHash, routeHash } from "../lib/route.js";
import type { JobStatus, ServerInfo } from "../lib/types.js";

/** The server at a glance: version, uptime, jobs by state, job processes, and the cluster's workers. */
export function ServerOverview(props: { info: ServerInfo | undefined; error: Error | undefined; jobs: JobStatus[] }) {
  const { info } = props;
  if (!info) return <section class="card">{props.error ? <p class="error">{props.error.message}</p> : <p class="muted">Loading the server's facts…</p>}</section>;
  const names = new Map(props.jobs.map((j) => [j.id, j.name]));
  const processes = Array.isArray(info.processes) ? info.processes : [];
  return (
    <section class="card server-overview" aria-label="Server overview">
      <h2>Server</h2>
      {props.error && <p class="error">Refresh failed: {props.error.message}</p>}
      <dl class="facts">
        <Fact label="Version">{String(info.version)}</Fact>
        <Fact label="Uptime">{duration(info.uptimeMs)}</Fact>
        <Fact label="Address">{String(info.host)}:{String(info.port)}</Fact>
        <Fact label="Job processes" testId="process-count">{count(processes.length)}</Fact>
      </dl>
      <ul class="state-counts" aria-label="Jobs by state">
        {ALL_STATES.map((state) => (
          <li key={state}>
            <a href={routeHash({ name: "overview", filter: { state, query: "", page: 1 } })} class={`count state-${state}`}>
              <strong>{count(info.jobs?.[state] ?? 0)}</strong> {state}
            </a>
          </li>
        ))}
      </ul>
      {processes.length > 0 && (
        <p class="processes">
          Running in processes:{" "}
          {processes.map((p, i) => (
            <span key={p.id}>
              {i > 0 && ", "}
              <a href={jobHash(p.id)}>{names.get(p.id) ?? shortId(p.id)}</a> <span class="muted">pid {p.pid ?? "?"}</span>
            </span>
          ))}
        </p>
      )}
      {info.cluster && <Cluster cluster={info.cluster} names={names} />}
    </section>
  );
}

function Cluster(props: { cluster: NonNullable<ServerInfo["cluster"]>; names: Map<string, string> }) {
  const { cluster } = props;
  const workers = Array.isArray(cluster.workers) ? cluster.workers : [];
  return (
    <div class="cluster">
      <h3>
        Cluster <span class="muted">{String(cluster.url)}</span> {cluster.connected === false && <span class="badge state-failed">disconnected</span>}
      </h3>
      {workers.length === 0 ? (
        <p class="muted">No live workers: start some with sage worker start --cluster {String(cluster.url)}.</p>
      ) : (
        <div class="table-wrap">
          <table class="workers">
            <thead>
              <tr>
                <th>Worker</th>
                <th>Host</th>
                <th>Slots used</th>
                <th>Runs parts of</th>
                <th>Last beat</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr key={w.name}>
                  <td>{String(w.name)}</td>
                  <td>{String(w.host)}</td>
                  <td>
                    <meter min={0} max={Math.max(1, Number(w.slots) || 0)} value={Number(w.used) || 0} /> {count(w.used)}/{count(w.slots)}
                  </td>
                  <td>
                    {(Array.isArray(w.jobs) ? w.jobs : []).length === 0
                      ? "–"
                      : w.jobs.map((id, i) => (
                          <span key={id}>
                            {i > 0 && ", "}
                            <a href={jobHash(id)}>{props.names.get(id) ?? shortId(String(id))}</a>
                          </span>
                        ))}
                  </td>
                  <td>{duration(w.lastBeatMs)} ago</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
