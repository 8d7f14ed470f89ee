import type { GraphEdge, OperatorStatus } from "./types.js";

/** Which operators read from outside the job (sources) and which emit nothing downstream (sinks). */
export interface OperatorRoles {
  sources: Set<string>;
  sinks: Set<string>;
}

/**
 * Tells sources and sinks apart by the graph: a source has no edge in, a sink none out. Without
 * edges (a runtime that reports none) it goes by the kind's name.
 */
export function operatorRoles(operators: Array<Pick<OperatorStatus, "name" | "kind">>, edges: GraphEdge[] | undefined): OperatorRoles {
  if (!edges) {
    return {
      sources: new Set(operators.filter((o) => o.kind === "source" || o.kind === "batch").map((o) => o.name)),
      sinks: new Set(operators.filter((o) => o.kind === "sink").map((o) => o.name)),
    };
  }
  const targets = new Set(edges.map((e) => e.to));
  const origins = new Set(edges.map((e) => e.from));
  return {
    sources: new Set(operators.filter((o) => !targets.has(o.name)).map((o) => o.name)),
    sinks: new Set(operators.filter((o) => !origins.has(o.name)).map((o) => o.name)),
  };
}
