import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js";
import type { GraphEdge, OperatorStatus } from "../lib/types.js";

/** An operator's box, where the layout put it. */
export interface NodeBox {
  /** The operator's index in the status. */
  index: number;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An edge as drawn: its route, its label and what kind of link it is. */
export interface EdgeRoute {
  edge: GraphEdge;
  points: Array<{ x: number; y: number }>;
  label: { text: string; x: number; y: number; width: number; height: number } | undefined;
}

/** A laid-out job graph. */
export interface GraphLayout {
  width: number;
  height: number;
  nodes: NodeBox[];
  edges: EdgeRoute[];
}

/** The size of an operator's box (its name, kind, rates and errors fit in it). */
export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 112;

/** What an edge's label says: how records spread, and what else the link is. */
export function edgeLabel(edge: GraphEdge): string {
  const parts = [edge.feedback ? "feedback" : undefined, String(edge.partition), edge.chained ? "chained" : undefined, edge.input !== undefined ? `input ${edge.input}` : undefined];
  return parts.filter(Boolean).join(" · ");
}

/**
 * A key that changes only when the graph's shape does: a layout is computed per shape, not per
 * metrics event.
 */
export function shapeKey(operators: Array<Pick<OperatorStatus, "name">>, edges: GraphEdge[] | undefined): string {
  return JSON.stringify([operators.map((o) => o.name), (edges ?? []).map((e) => [e.from, e.to, e.partition, e.chained === true, e.feedback === true, e.input ?? null])]);
}

/**
 * The ELK graph of a job: layered, left to right, an edge's label placed on it. A feedback edge
 * goes to ELK the other way round, so the layers follow the stream's direction and the loop
 * comes back from right to left (it is drawn reversed again). Edges naming an operator the status
 * does not list are left out (a status is the job's own word).
 */
export function elkGraph(operators: Array<Pick<OperatorStatus, "name">>, edges: GraphEdge[] | undefined): ElkNode {
  const ids = new Map<string, string>();
  operators.forEach((o, i) => {
    if (!ids.has(o.name)) ids.set(o.name, `n${i}`);
  });
  const elkEdges: ElkExtendedEdge[] = [];
  (edges ?? []).forEach((edge, i) => {
    const from = ids.get(edge.from);
    const to = ids.get(edge.to);
    if (from === undefined || to === undefined) return;
    const text = edgeLabel(edge);
    const [source, target] = edge.feedback ? [to, from] : [from, to];
    elkEdges.push({ id: `e${i}`, sources: [source], targets: [target], labels: [{ id: `l${i}`, text, width: text.length * 6.6 + 10, height: 16 }] });
  });
  return {
    id: "job",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.edgeRouting": "POLYLINE",
      "elk.edgeLabels.placement": "CENTER",
      // Other cycles (a status that marks none as feedback) break in the order the operators came.
      "elk.layered.cycleBreaking.strategy": "MODEL_ORDER",
      "elk.layered.spacing.nodeNodeBetweenLayers": "70",
      "elk.spacing.nodeNode": "36",
      "elk.spacing.edgeLabel": "4",
      "elk.padding": "[top=16,left=16,bottom=16,right=16]",
    },
    children: operators.map((_, i) => ({ id: `n${i}`, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: elkEdges,
  };
}

let elk: Promise<{ layout(graph: ElkNode): Promise<ElkNode> }> | undefined;

/** Lays the job's graph out with ELK (loaded on first use: the list pages never need it). */
export async function layoutGraph(operators: Array<Pick<OperatorStatus, "name">>, edges: GraphEdge[] | undefined): Promise<GraphLayout> {
  elk ??= import("elkjs/lib/elk.bundled.js").then(({ default: ELK }) => new ELK());
  const laid = await (await elk).layout(elkGraph(operators, edges));
  const nodes: NodeBox[] = (laid.children ?? []).map((child, index) => ({
    index,
    name: operators[index]!.name,
    x: child.x ?? 0,
    y: child.y ?? 0,
    width: child.width ?? NODE_WIDTH,
    height: child.height ?? NODE_HEIGHT,
  }));
  const routes: EdgeRoute[] = (laid.edges ?? []).map((e) => {
    const edge = edges![Number(e.id.slice(1))]!;
    const section = e.sections?.[0];
    const laidPoints = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
    const points = edge.feedback ? laidPoints.reverse() : laidPoints;
    const l = e.labels?.[0];
    return { edge, points, label: l && { text: l.text ?? "", x: l.x ?? 0, y: l.y ?? 0, width: l.width ?? 0, height: l.height ?? 0 } };
  });
  return { width: laid.width ?? 0, height: laid.height ?? 0, nodes, edges: routes };
}
