import { useEffect, useState } from "preact/hooks";
import { count, decimal } from "../lib/format.js";
import { backpressureLevel, busyStep } from "../lib/levels.js";
import type { Rates } from "../lib/rates.js";
import { operatorRoles } from "../lib/roles.js";
import type { GraphEdge, OperatorStatus } from "../lib/types.js";
import { layoutGraph, shapeKey, type EdgeRoute, type GraphLayout, type NodeBox } from "./graph-layout.js";

/**
 * The job's graph as Flink draws it: operators as boxes (name, kind, parallelism, records/s,
 * errors) coloured by backpressure (border) and busy time (fill), edges labelled with their
 * partitioning; chained links lighter, feedback links dashed. Click a box for its instances.
 */
export function JobGraph(props: { operators: OperatorStatus[]; edges: GraphEdge[] | undefined; rates: Rates; active: boolean; selected: string | undefined; onSelect(name: string | undefined): void }) {
  const { operators, edges } = props;
  const key = shapeKey(operators, edges);
  const [layout, setLayout] = useState<{ key: string; graph: GraphLayout } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    let current = true;
    layoutGraph(operators, edges)
      .then((graph) => current && setLayout({ key, graph }))
      .catch((failure: Error) => current && setError(`The graph could not be laid out: ${failure.message}`));
    return () => {
      current = false;
    };
  }, [key]);

  if (operators.length === 0) return <p class="muted">No operators reported yet.</p>;
  if (error) return <p class="error">{error}</p>;
  if (!layout) return <p class="muted">Laying out the graph…</p>;
  const byName = new Map(operators.map((o) => [o.name, o]));
  const roles = operatorRoles(operators, edges);
  const { graph } = layout;
  return (
    <div class="graph-wrap">
      {edges === undefined && <p class="muted">This job's runtime does not report its graph's edges: operators only.</p>}
      <div class="graph-scroll">
        <svg class="graph" width={graph.width} height={graph.height} viewBox={`0 0 ${graph.width} ${graph.height}`} role="img" aria-label="Job graph">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
            </marker>
          </defs>
          {graph.edges.map((route, i) => (
            <Edge key={i} route={route} />
          ))}
          {graph.nodes.map((box) => {
            const op = byName.get(box.name) ?? operators[box.index]!;
            // A runtime that reports no rates of its own gets them from the statuses pushed.
            const rates = props.active ? { in: op.recordsInPerSecond ?? props.rates.recordsIn.get(op.name), out: op.recordsOutPerSecond ?? props.rates.recordsOut.get(op.name) } : undefined;
            const role = roles.sources.has(op.name) ? "source" : roles.sinks.has(op.name) ? "sink" : "inner";
            return <Node key={box.index} box={box} op={op} role={role} rates={rates} selected={props.selected === op.name} onSelect={() => props.onSelect(props.selected === op.name ? undefined : op.name)} />;
          })}
        </svg>
      </div>
      <Legend />
    </div>
  );
}

function Edge(props: { route: EdgeRoute }) {
  const { edge, points, label } = props.route;
  if (points.length < 2) return null;
  const d = points.map((p, i) => `${i === 0 ? "M" : "L"} ${p.x} ${p.y}`).join(" ");
  const partition = ["forward", "rebalance", "hash", "broadcast"].includes(edge.partition) ? edge.partition : "other";
  const classes = ["edge", `partition-${partition}`, edge.chained ? "chained" : "", edge.feedback ? "feedback" : ""].filter(Boolean).join(" ");
  return (
    <g class={classes} data-edge={`${edge.from} -> ${edge.to}`}>
      <path d={d} marker-end="url(#arrow)" />
      {label && (
        <g class="edge-label">
          <rect x={label.x} y={label.y} width={label.width} height={label.height} rx={3} />
          <text x={label.x + label.width / 2} y={label.y + label.height - 4} text-anchor="middle">
            {label.text}
          </text>
        </g>
      )}
    </g>
  );
}

function Node(props: { box: NodeBox; op: OperatorStatus; role: "source" | "sink" | "inner"; rates: { in: number | undefined; out: number | undefined } | undefined; selected: boolean; onSelect(): void }) {
  const { box, op } = props;
  const level = backpressureLevel(op.backPressuredMsPerSecond);
  const busy = busyStep(op.busyMsPerSecond);
  const barWidth = box.width - 28;
  const busyShare = typeof op.busyMsPerSecond === "number" ? Math.max(0, Math.min(1, op.busyMsPerSecond / 1000)) : 0;
  const progress = op.progress && op.progress.total > 0 ? Math.max(0, Math.min(1, op.progress.done / op.progress.total)) : undefined;
  const errors = Number(op.errors) || 0;
  return (
    <g
      class={`node bp-${level} busy-${busy < 0 ? "unknown" : busy}${props.selected ? " selected" : ""}`}
      transform={`translate(${box.x} ${box.y})`}
      data-operator={op.name}
      role="button"
      tabIndex={0}
      aria-pressed={props.selected}
      onClick={props.onSelect}
      onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), props.onSelect())}
    >
      <title>
        {op.name}: backpressure {level}
        {typeof op.busyMsPerSecond === "number" ? `, busy ${Math.round(op.busyMsPerSecond)} ms/s` : ""}
      </title>
      <rect class="node-box" width={box.width} height={box.height} rx={7} />
      <rect class="node-bp" width={6} height={box.height} rx={3} />
      <text class="node-name" x={16} y={21}>
        {clip(op.name, 26)}
      </text>
      <text class="node-kind" x={16} y={39}>
        {clip(String(op.kind), 16)} · parallelism {count(op.parallelism)}
      </text>
      <NodeRates role={props.role} rates={props.rates} />
      <text class="node-totals" x={16} y={76}>
        {props.role !== "source" && (
          <>
            <tspan data-field="records-in">{count(op.recordsIn)}</tspan> in
          </>
        )}
        {props.role === "inner" && " · "}
        {props.role !== "sink" && (
          <>
            <tspan data-field="records-out">{count(op.recordsOut)}</tspan> out
          </>
        )}
      </text>
      <text class={`node-errors${errors > 0 ? " has-errors" : ""}`} x={16} y={94}>
        {count(errors)} error{errors === 1 ? "" : "s"}
        {op.backlog !== undefined ? ` · backlog ${count(op.backlog)}` : ""}
      </text>
      <rect class="bar-track" x={16} y={box.height - 12} width={barWidth} height={4} rx={2} />
      {progress !== undefined ? (
        <rect class="bar progress" x={16} y={box.height - 12} width={barWidth * progress} height={4} rx={2} />
      ) : (
        <rect class="bar busy" x={16} y={box.height - 12} width={barWidth * busyShare} height={4} rx={2} />
      )}
    </g>
  );
}

// Records per second while the job runs: in and out (a source only reads out, a sink only takes in).
function NodeRates(props: { role: "source" | "sink" | "inner"; rates: { in: number | undefined; out: number | undefined } | undefined }) {
  const { rates, role } = props;
  if (!rates) {
    return (
      <text class="node-rate muted-text" x={16} y={58}>
        ended
      </text>
    );
  }
  const show = (v: number | undefined) => (v === undefined ? "–" : decimal(v));
  return (
    <text class="node-rate" x={16} y={58}>
      {role !== "source" && (
        <>
          in <tspan data-field="rate-in">{show(rates.in)}</tspan>/s
        </>
      )}
      {role === "inner" && " · "}
      {role !== "sink" && (
        <>
          out <tspan data-field="rate-out">{show(rates.out)}</tspan>/s
        </>
      )}
    </text>
  );
}

function Legend() {
  return (
    <ul class="legend" aria-label="Legend">
      <li>
        <span class="swatch bp-ok" /> backpressure ok (≤10%)
      </li>
      <li>
        <span class="swatch bp-low" /> low (≤50%)
      </li>
      <li>
        <span class="swatch bp-high" /> high
      </li>
      <li>
        <span class="swatch busy-0" />
        <span class="swatch busy-2" />
        <span class="swatch busy-4" /> idle → busy
      </li>
      <li>
        <span class="line chained" /> chained
      </li>
      <li>
        <span class="line feedback" /> feedback
      </li>
    </ul>
  );
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
