import { Fact } from "./fact.js";
import { count, decimal, latency, percent } from "../lib/format.js";
import { backpressureLevel } from "../lib/levels.js";
import type { OperatorStatus } from "../lib/types.js";

/** One operator's parallel instances, as a clicked graph node opens them. */
export function OperatorPanel(props: { op: OperatorStatus; onClose(): void }) {
  const { op } = props;
  const instances = Array.isArray(op.instances) ? op.instances : [];
  const distributed = instances.some((i) => i.worker !== undefined);
  return (
    <section class="card operator-panel" aria-label={`Operator ${op.name}`}>
      <div class="panel-head">
        <h3>
          {op.name} <span class="muted">{String(op.kind)}</span>
        </h3>
        <button type="button" class="ghost" onClick={props.onClose} aria-label="Close">
          ✕
        </button>
      </div>
      <dl class="facts small">
        <Fact label="Parallelism">{count(op.parallelism)}</Fact>
        <Fact label="Records in / out">{count(op.recordsIn)} / {count(op.recordsOut)}</Fact>
        <Fact label="Errors">{count(op.errors)}</Fact>
        {op.latency && (
          <Fact label="Latency p50 / p99">{latency(op.latency.p50Ms)} / {latency(op.latency.p99Ms)}</Fact>
        )}
        {op.progress && (
          <Fact label="Source progress">{count(op.progress.done)} of {count(op.progress.total)} {String(op.progress.unit)}</Fact>
        )}
        {Array.isArray(op.workers) && op.workers.length > 0 && (
          <Fact label="Workers">{op.workers.join(", ")}</Fact>
        )}
      </dl>
      {instances.length === 0 ? (
        <p class="muted">This job's runtime reports no per-instance numbers for this operator.</p>
      ) : (
        <div class="table-wrap">
          <table class="instances">
            <thead>
              <tr>
                <th class="num">#</th>
                {distributed && <th>Worker</th>}
                <th class="num">In</th>
                <th class="num">Out</th>
                <th class="num">In/s</th>
                <th class="num">Out/s</th>
                <th class="num">In flight</th>
                <th class="num">Backlog (fill)</th>
                <th class="num">Backpressured ms/s</th>
                <th class="num">Busy ms/s</th>
                <th class="num">Idle ms/s</th>
                <th class="num">Latency p50</th>
                <th class="num">p99</th>
              </tr>
            </thead>
            <tbody>
              {instances.map((i) => (
                <tr key={i.index} data-instance={i.index}>
                  <td class="num">{count(i.index)}</td>
                  {distributed && <td>{i.worker ?? "–"}</td>}
                  <td class="num">{count(i.recordsIn)}</td>
                  <td class="num">{count(i.recordsOut)}</td>
                  <td class="num">{decimal(i.recordsInPerSecond)}</td>
                  <td class="num">{decimal(i.recordsOutPerSecond)}</td>
                  <td class="num">{count(i.inFlight)}</td>
                  <td class="num">
                    {count(i.backlog)} ({percent(i.backlogFill)})
                  </td>
                  <td class={`num bp-text-${backpressureLevel(i.backPressuredMsPerSecond)}`}>{count(i.backPressuredMsPerSecond)}</td>
                  <td class="num">{count(i.busyMsPerSecond)}</td>
                  <td class="num">{count(i.idleMsPerSecond)}</td>
                  <td class="num">{latency(i.latency?.p50Ms)}</td>
                  <td class="num">{latency(i.latency?.p99Ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
