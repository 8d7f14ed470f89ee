import { count, decimal, latency } from "../lib/format.js";
import type { ServiceStatus } from "../lib/types.js";
import { StateBadge } from "./state-badge.js";

/**
 * The job's services: state, where each runs, calls and their rate, errors, in-flight and queued
 * calls, latency, and the counters the service publishes (an LLM service's tokens, rate-limit
 * waits, retries, cache hits). The heading tells listed services from live instances apart: an
 * ended job lists its services with their final numbers, and has none running.
 */
export function ServicesPanel(props: { services: ServiceStatus[]; liveInstances: number; callRates: Map<string, number>; active: boolean }) {
  const services = props.services;
  return (
    <section class="card services" aria-label="Services">
      <h2>
        Services{" "}
        <span class="muted" data-testid="service-summary">
          {services.length === 0 ? "none registered" : `${count(services.length)} listed · ${count(props.liveInstances)} live instance${props.liveInstances === 1 ? "" : "s"}`}
        </span>
      </h2>
      <LlmUsage services={services} />
      {services.length > 0 && (
        <div class="table-wrap">
          <table class="services-table">
            <thead>
              <tr>
                <th>Service</th>
                <th>State</th>
                <th>Runs</th>
                <th class="num">Calls</th>
                <th class="num">Calls/s</th>
                <th class="num">Errors</th>
                <th class="num">In flight</th>
                <th class="num">Queued</th>
                <th class="num">p50</th>
                <th class="num">p99</th>
                <th>Counters</th>
              </tr>
            </thead>
            <tbody>
              {services.map((s) => (
                <tr key={s.name} data-service={s.name}>
                  <td>{String(s.name)}</td>
                  <td>
                    <StateBadge state={s.state} />
                  </td>
                  <td>{s.remote ? `remote${s.worker ? ` on ${s.worker}` : ""}` : "in the job process"}</td>
                  <td class="num">{count(s.calls)}</td>
                  <td class="num">{props.active ? decimal(props.callRates.get(s.name)) : "–"}</td>
                  <td class={`num${(s.errors ?? 0) > 0 ? " has-errors" : ""}`}>{count(s.errors)}</td>
                  <td class="num">{count(s.inFlight)}</td>
                  <td class="num">{count(s.queued)}</td>
                  <td class="num">{latency(s.latency?.p50Ms)}</td>
                  <td class="num">{latency(s.latency?.p99Ms)}</td>
                  <td>
                    <Counters metrics={s.metrics} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// The counters an LLM pipeline is judged by (tokens are its cost, rate-limit waits its ceiling),
// summed over the services that publish them.
const LLM_COUNTERS: Array<[string, string]> = [
  ["promptTokens", "prompt tokens"],
  ["completionTokens", "completion tokens"],
  ["requests", "requests"],
  ["rateLimited", "rate-limited"],
  ["retries", "retries"],
  ["cacheHits", "cache hits"],
];

function LlmUsage(props: { services: ServiceStatus[] }) {
  const totals = new Map<string, number>();
  for (const service of props.services) {
    const metrics = service.metrics;
    if (typeof metrics !== "object" || metrics === null) continue;
    for (const [key] of LLM_COUNTERS) {
      const value = (metrics as Record<string, unknown>)[key];
      if (typeof value === "number" && Number.isFinite(value)) totals.set(key, (totals.get(key) ?? 0) + value);
    }
  }
  if (!totals.has("promptTokens") && !totals.has("completionTokens")) return null;
  const tokens = (totals.get("promptTokens") ?? 0) + (totals.get("completionTokens") ?? 0);
  return (
    <p class="llm-usage" data-testid="llm-usage">
      <strong>{count(tokens)}</strong> tokens
      {LLM_COUNTERS.filter(([key]) => totals.has(key)).map(([key, label]) => (
        <span key={key}>
          {" · "}
          {count(totals.get(key))} {label}
        </span>
      ))}
    </p>
  );
}

// A service's own counters; a forged value that is not a plain object of numbers shows nothing.
function Counters(props: { metrics: unknown }) {
  const { metrics } = props;
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics)) return <span class="muted">–</span>;
  const entries = Object.entries(metrics as Record<string, unknown>).filter(([, v]) => typeof v === "number");
  if (entries.length === 0) return <span class="muted">–</span>;
  return (
    <ul class="chips">
      {entries.map(([name, value]) => (
        <li key={name}>
          {name} <strong>{decimal(value as number)}</strong>
        </li>
      ))}
    </ul>
  );
}
