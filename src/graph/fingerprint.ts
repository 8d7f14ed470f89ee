import { createHash } from "node:crypto";
import type { ExecutionGraph } from "./execution-graph.js";

/**
 * A short hash of a graph's shape (operator kinds and parallelism, edges, services): two processes
 * that evaluated the same pipeline module compare it to know they built the same job. Names are
 * left out: they follow function names, which may differ without changing the job.
 */
export function graphFingerprint(graph: ExecutionGraph): string {
  const shape = {
    operators: graph.operators.map((op) => [op.fnRef, op.kind, op.parallelism, op.concurrency, op.inputCount]),
    edges: graph.edges.map((edge) => [edge.from, edge.to, edge.partition, edge.inputIndex, edge.feedback]),
    services: graph.services.map((service) => [service.name, service.maxConcurrency]),
  };
  return createHash("sha256").update(JSON.stringify(shape)).digest("hex").slice(0, 16);
}

/** One line per operator, to show how two graphs differ. */
export function describeGraph(graph: ExecutionGraph): string {
  return graph.operators.map((op) => `${op.name}(${op.kind}${op.parallelism > 1 ? `×${op.parallelism}` : ""})`).join(", ");
}
