import type { EdgeSpec, OperatorSpec, TaskId, TaskSpec } from "./execution-graph.js";
import type { LogicalGraph } from "./logical-graph.js";

/** Fuses forward-connected operators into tasks and turns the remaining edges into task edges. */
export function chainOperators(graph: LogicalGraph): { tasks: TaskSpec[]; edges: EdgeSpec[] } {
  const outgoing = countBy(graph.edges, (e) => e.from);
  const incoming = countBy(graph.edges, (e) => e.to);
  const taskOf = new Map<number, TaskSpec>();
  const tasks: TaskSpec[] = [];
  const byRef = new Map(graph.operators.map((op) => [op.fnRef, op]));

  for (const op of graph.operators) {
    const input = incoming.get(op.fnRef) === 1 ? graph.edges.find((e) => e.to === op.fnRef)! : undefined;
    const upstream = input ? byRef.get(input.from) : undefined;
    const fusable =
      input !== undefined &&
      upstream !== undefined &&
      !input.feedback &&
      outgoing.get(upstream.fnRef) === 1 &&
      upstream.parallelism === op.parallelism &&
      upstream.remote === op.remote &&
      // A hash or rebalance exchange over one instance on each side moves nothing.
      (input.partition === "forward" || op.parallelism === 1) &&
      taskOf.has(upstream.fnRef);
    if (fusable) {
      const task = taskOf.get(upstream.fnRef)!;
      task.operators.push(op);
      task.name = `${task.name} -> ${op.name}`;
      taskOf.set(op.fnRef, task);
      continue;
    }
    const task: TaskSpec = {
      id: `t${tasks.length}` as TaskId,
      name: op.name,
      operators: [op],
      parallelism: op.parallelism,
      remote: op.remote,
    };
    tasks.push(task);
    taskOf.set(op.fnRef, task);
  }

  const edges: EdgeSpec[] = [];
  for (const e of graph.edges) {
    const from = taskOf.get(e.from)!;
    const to = taskOf.get(e.to)!;
    if (from === to && to.operators[0]!.fnRef !== e.to) continue; // fused inside the chain
    edges.push({ id: edges.length, from: from.id, to: to.id, partition: e.partition, inputIndex: e.inputIndex, feedback: e.feedback });
  }
  return { tasks, edges };
}

/** The head operator of a task. */
export function headOf(task: TaskSpec): OperatorSpec {
  return task.operators[0]!;
}

function countBy<T>(items: readonly T[], key: (item: T) => number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
