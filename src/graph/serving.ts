import { PipelineDefinitionError } from "../api/errors.js";
import type { EdgeSpec, ServingSpec, TaskId, TaskSpec } from "./execution-graph.js";

/**
 * Finds the pipelines served as services: each `fromService` source task and every task
 * downstream of it. Checks that each is answered by a `replyTo` of its own service inside it,
 * that every `replyTo` follows the requests it answers, and that none of it is remote (the
 * requests and their callers' answers live in the process that runs the job's controller).
 */
export function findServing(tasks: readonly TaskSpec[], edges: readonly EdgeSpec[]): ServingSpec[] {
  // Most jobs serve nothing: they need not compile or run the checks below.
  const servesOrReplies = tasks.some((task) => task.operators.some((op) => op.serves !== undefined || op.replies !== undefined));
  return servesOrReplies ? servedRegions(tasks, edges) : [];
}

// The region of each served pipeline, checked: answered by a replyTo, no remote operator in it,
// and every replyTo downstream of the fromService it answers.
function servedRegions(tasks: readonly TaskSpec[], edges: readonly EdgeSpec[]): ServingSpec[] {
  const next = new Map<TaskId, TaskId[]>(tasks.map((t) => [t.id, []]));
  for (const e of edges) next.get(e.from)!.push(e.to);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const serving: ServingSpec[] = [];
  for (const task of tasks) {
    const service = task.operators[0]!.serves;
    if (service === undefined) continue;
    const region = downstream(task.id, next);
    const ops = region.flatMap((id) => byId.get(id)!.operators);
    if (!ops.some((op) => op.replies === service)) {
      throw new PipelineDefinitionError(`fromService('${service}') is never answered: end its pipeline with .sink(replyTo('${service}'))`);
    }
    const remote = ops.find((op) => op.remote);
    if (remote) {
      throw new PipelineDefinitionError(
        `operator '${remote.name}' is part of the pipeline serving '${service}' and cannot run with remote: true: the requests and ` +
          `their callers' answers live in the job's own process; drop remote: true there (the callers may be remote)`,
      );
    }
    serving.push({ service, source: task.id, tasks: region });
  }
  for (const task of tasks) {
    for (const op of task.operators) {
      if (op.replies === undefined) continue;
      const spec = serving.find((s) => s.service === op.replies);
      if (!spec) {
        throw new PipelineDefinitionError(`replyTo('${op.replies}') in operator '${op.name}': no pipeline serves '${op.replies}'; declare it with env.fromService('${op.replies}')`);
      }
      if (!spec.tasks.includes(task.id)) {
        throw new PipelineDefinitionError(`replyTo('${op.replies}') in operator '${op.name}' is not downstream of fromService('${op.replies}'): a reply must follow the requests it answers`);
      }
    }
  }
  return serving;
}

// Breadth first, so the source task comes first and the order is stable.
function downstream(start: TaskId, next: ReadonlyMap<TaskId, TaskId[]>): TaskId[] {
  const seen = new Set<TaskId>([start]);
  const order: TaskId[] = [start];
  for (let i = 0; i < order.length; i++) {
    for (const to of next.get(order[i]!)!) {
      if (seen.has(to)) continue;
      seen.add(to);
      order.push(to);
    }
  }
  return order;
}
