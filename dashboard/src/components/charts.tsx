import { duration } from "../lib/format.js";
import type { JobHistory } from "../lib/types.js";
import { UPlotChart, type ChartLine } from "./uplot-chart.js";

/** The job's numbers over its life, from the JobManager's history: throughput, backlog, backpressure, service latency. */
export function Charts(props: { history: JobHistory | undefined; error: Error | undefined; sources: Set<string> }) {
  const { history } = props;
  if (!history) return <p class={props.error ? "error" : "muted"}>{props.error ? `No history: ${props.error.message}` : "Loading the job's history…"}</p>;
  if (history.t.length === 0) return <p class="muted">No samples yet: the JobManager samples the job every {duration(history.intervalMs)} while it runs.</p>;
  const operators = Array.isArray(history.operators) ? history.operators : [];
  const services = Array.isArray(history.services) ? history.services : [];
  const lines = (pick: (o: JobHistory["operators"][number]) => ChartLine["values"]): ChartLine[] => operators.map((o) => ({ label: o.name, values: pick(o) }));
  // What an operator gets through: what it takes in; for a source, what it reads (emits).
  const throughput = lines((o) => (props.sources.has(o.name) ? o.recordsOutPerSecond : (o.recordsInPerSecond ?? o.recordsOutPerSecond)));
  const latency: ChartLine[] = services.flatMap((s) => [
    { label: `${s.name} p50`, values: s.latencyP50Ms, dashed: true },
    { label: `${s.name} p99`, values: s.latencyP99Ms },
  ]);
  return (
    <div class="charts">
      <UPlotChart id="throughput" title="Throughput (records in per second; sources: records read)" unit="records/s" t={history.t} lines={throughput} />
      <UPlotChart id="backlog" title="Backlog (batches waiting)" unit="batches" t={history.t} lines={lines((o) => o.backlog)} />
      <UPlotChart id="backpressure" title="Backpressured (ms per second)" unit="ms/s" t={history.t} lines={lines((o) => o.backPressuredMsPerSecond)} />
      {latency.length > 0 ? (
        <UPlotChart id="latency" title="Service call latency (p50 dashed, p99)" unit="ms" t={history.t} lines={latency} />
      ) : (
        <figure class="chart empty">
          <figcaption>Service call latency</figcaption>
          <p class="muted">This job has no services.</p>
        </figure>
      )}
    </div>
  );
}
