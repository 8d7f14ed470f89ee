import type { GraphEdge } from "../api/types.js";
import type { ExecutionGraph } from "./execution-graph.js";

/**
 * The job's edges between operators, as a status shows them: the links inside each task's chain
 * (chained, forward) and the channels between tasks, from the last operator of one task to the
 * head of the next.
 */
export function graphEdges(graph: ExecutionGraph): GraphEdge[] {
  const edges: GraphEdge[] = [];
  const tasks = new Map(graph.tasks.map((task) => [task.id, task] as const));
  for (const task of graph.tasks) {
    for (let i = 1; i < task.operators.length; i++) {
      edges.push({ from: task.operators[i - 1]!.name, to: task.operators[i]!.name, partition: "forward", chained: true });
    }
  }
  for (const edge of graph.edges) {
    const from = tasks.get(edge.from)?.operators.at(-1);
    const to = tasks.get(edge.to)?.operators[0];
    if (!from || !to) continue;
    edges.push({
      from: from.name,
      to: to.name,
      partition: edge.partition,
      ...(edge.feedback && { feedback: true }),
      ...(to.inputCount > 1 && { input: edge.inputIndex }),
    });
  }
  return edges;
}
