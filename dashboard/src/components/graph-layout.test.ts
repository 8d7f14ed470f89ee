import { describe, expect, it } from "vitest";
import type { GraphEdge } from "../lib/types.js";
import { edgeLabel, elkGraph, layoutGraph } from "./graph-layout.js";
import { operatorRoles } from "../lib/roles.js";

const OPERATORS = [
  { name: "Questions", kind: "batch" },
  { name: "Embed", kind: "map" },
  { name: "Retrieve", kind: "map" },
  { name: "Answer", kind: "sink" },
];
const EDGES: GraphEdge[] = [
  { from: "Questions", to: "Embed", partition: "forward", chained: true },
  { from: "Embed", to: "Retrieve", partition: "hash" },
  { from: "Retrieve", to: "Embed", partition: "rebalance", feedback: true, input: 1 },
  { from: "Retrieve", to: "Answer", partition: "broadcast" },
];

describe("the job graph's layout", () => {
  it("labels an edge with its partitioning and what else the link is", () => {
    expect(EDGES.map(edgeLabel)).toEqual(["forward · chained", "hash", "feedback · rebalance · input 1", "broadcast"]);
  });

  it("gives ELK a node per operator and an edge per link (a feedback one reversed), leaving out edges to operators it does not know", () => {
    const graph = elkGraph(OPERATORS, [...EDGES, { from: "Ghost", to: "Answer", partition: "forward" }]);
    expect(graph.children).toHaveLength(4);
    expect(graph.edges?.map((e) => [e.sources[0], e.targets[0]])).toEqual([["n0", "n1"], ["n1", "n2"], ["n1", "n2"], ["n2", "n3"]]);
    expect(graph.layoutOptions).toMatchObject({ "elk.algorithm": "layered", "elk.direction": "RIGHT" });
  });

  it("lays the graph out left to right, a feedback loop included", async () => {
    const layout = await layoutGraph(OPERATORS, EDGES);
    const x = new Map(layout.nodes.map((n) => [n.name, n.x]));
    expect(x.get("Questions")!).toBeLessThan(x.get("Embed")!);
    expect(x.get("Embed")!).toBeLessThan(x.get("Retrieve")!);
    expect(x.get("Retrieve")!).toBeLessThan(x.get("Answer")!);
    expect(layout.edges).toHaveLength(4);
    for (const route of layout.edges) {
      expect(route.points.length).toBeGreaterThanOrEqual(2);
      expect(route.label?.text).toBe(edgeLabel(route.edge));
    }
    // The loop is drawn from its tail back to its head: it ends at Embed, right to left.
    const loop = layout.edges.find((r) => r.edge.feedback)!;
    expect(loop.points[0]!.x).toBeGreaterThan(loop.points.at(-1)!.x);
    expect(layout.width).toBeGreaterThan(4 * 200);
  });

  it("tells sources and sinks by the edges, or by kind without edges", () => {
    expect(operatorRoles(OPERATORS, EDGES)).toEqual({ sources: new Set(["Questions"]), sinks: new Set(["Answer"]) });
    expect(operatorRoles(OPERATORS, undefined)).toEqual({ sources: new Set(["Questions"]), sinks: new Set(["Answer"]) });
  });
});
