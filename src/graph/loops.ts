import { PipelineDefinitionError } from "../api/errors.js";
import type { EdgeSpec, LoopSpec, TaskId, TaskSpec } from "./execution-graph.js";

/**
 * Finds feedback loops (strongly connected groups of tasks), tags the edges inside each, and
 * checks that every loop is fed from outside.
 */
export function findLoops(tasks: readonly TaskSpec[], edges: EdgeSpec[]): LoopSpec[] {
  // Only a filled future makes a feedback edge, and only a feedback edge closes a cycle: a graph
  // without one has no loop, and a job need not compile or run the search below.
  return edges.some((e) => e.feedback) ? loopsOf(tasks, edges) : [];
}

// The search itself, for a graph with feedback edges: a feedback edge outside any cycle becomes a plain one.
function loopsOf(tasks: readonly TaskSpec[], edges: EdgeSpec[]): LoopSpec[] {
  const components = stronglyConnected(tasks, edges);
  const componentOf = new Map<TaskId, number>();
  components.forEach((component, i) => component.forEach((task) => componentOf.set(task, i)));
  // A future filled by a stream that does not depend on it closes no loop: a plain edge then.
  for (const e of edges) if (e.feedback && componentOf.get(e.from) !== componentOf.get(e.to)) e.feedback = false;
  const loops: LoopSpec[] = [];
  for (const component of components) {
    const members = new Set(component);
    const cyclic = component.length > 1 || edges.some((e) => e.from === component[0] && e.to === component[0]);
    if (!cyclic) continue;
    const loop: LoopSpec = { id: loops.length, tasks: component };
    for (const e of edges) if (members.has(e.from) && members.has(e.to)) e.loop = loop.id;
    if (!edges.some((e) => members.has(e.to) && !members.has(e.from))) {
      const names = tasks.filter((t) => members.has(t.id)).map((t) => t.name);
      throw new PipelineDefinitionError(`feedback loop [${names.join(", ")}] has no input from outside the loop, so it could never start`);
    }
    loops.push(loop);
  }
  return loops;
}

// Tarjan's algorithm, recursive: job graphs are small (tens of tasks).
function stronglyConnected(tasks: readonly TaskSpec[], edges: readonly EdgeSpec[]): TaskId[][] {
  const next = new Map<TaskId, TaskId[]>(tasks.map((t) => [t.id, []]));
  for (const e of edges) next.get(e.from)!.push(e.to);
  const index = new Map<TaskId, number>();
  const low = new Map<TaskId, number>();
  const stack: TaskId[] = [];
  const onStack = new Set<TaskId>();
  const result: TaskId[][] = [];
  let counter = 0;
  const visit = (v: TaskId): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: TaskId[] = [];
      let w: TaskId;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      result.push(component.reverse());
    }
  };
  for (const t of tasks) if (!index.has(t.id)) visit(t.id);
  return result;
}
