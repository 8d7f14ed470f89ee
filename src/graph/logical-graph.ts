import { PipelineDefinitionError } from "../api/errors.js";
import { replySpecOf, serviceSourceOf } from "../api/pipeline-service.js";
import { isClass } from "../api/service.js";
import type { Transformation } from "../api/transformation.js";
import type { OperatorKind, OperatorSpec, PartitionKind } from "./execution-graph.js";

/** An operator-level edge, before chaining. */
export interface LogicalEdge {
  from: number;
  to: number;
  inputIndex: number;
  partition: PartitionKind;
  feedback: boolean;
}

/** Operators (futures resolved away) and the edges between them. */
export interface LogicalGraph {
  operators: OperatorSpec[];
  edges: LogicalEdge[];
}

/** Turns recorded transformations into operators and edges, resolving futures into feedback edges. */
export function buildLogicalGraph(pipeline: readonly Transformation[]): LogicalGraph {
  const real = pipeline.filter((t) => t.kind !== "future");
  if (!real.some((t) => t.kind === "batch" || t.kind === "source")) {
    throw new PipelineDefinitionError("the pipeline has no source: start it with fromBatch(), fromCollection(), fromSource() or fromService()");
  }
  const parallelism = new Map<number, number>();
  const operators: OperatorSpec[] = [];
  const edges: LogicalEdge[] = [];
  const remote = new Map<number, boolean>();
  for (const t of real) {
    const inputs = t.inputs.map((input) => resolveFuture(input, t));
    const p = operatorParallelism(t, inputs, parallelism);
    parallelism.set(t.id, p);
    // A key selector runs where its input runs (as for its parallelism): a remote stage's keys are
    // computed on its worker, not after a trip to the driver.
    const isRemote = t.kind === "keyBy" && t.options.remote === undefined ? (remote.get(inputs[0]!.source.id) ?? false) : t.options.remote === true;
    remote.set(t.id, isRemote);
    operators.push({
      fnRef: t.id,
      name: t.name,
      kind: t.kind as OperatorKind,
      parallelism: p,
      concurrency: t.options.concurrency ?? 1,
      remote: isRemote,
      inputCount: t.inputs.length,
      ...servingRole(t),
    });
    inputs.forEach(({ source, feedback }, inputIndex) => {
      edges.push({ from: source.id, to: t.id, inputIndex, feedback, partition: "forward" });
    });
  }
  // Partitions need every parallelism, and a feedback edge's source is declared after its target.
  const byId = new Map(real.map((t) => [t.id, t]));
  for (const edge of edges) {
    const source = byId.get(edge.from)!;
    const pFrom = parallelism.get(edge.from)!;
    const pTo = parallelism.get(edge.to)!;
    edge.partition = source.kind === "keyBy" ? "hash" : pFrom === pTo ? "forward" : "rebalance";
  }
  return { operators, edges };
}

// The part an operator plays in a pipeline served as a service, if any.
function servingRole(t: Transformation): Pick<OperatorSpec, "serves" | "replies"> {
  const served = t.kind === "source" ? serviceSourceOf(t.fn) : undefined;
  if (served) return { serves: served.service };
  const reply = t.kind === "sink" ? replySpecOf(t.fn) : undefined;
  return reply ? { replies: reply.service } : {};
}

function resolveFuture(input: Transformation, consumer: Transformation): { source: Transformation; feedback: boolean } {
  let source = input;
  let feedback = false;
  const seen = new Set<Transformation>();
  while (source.kind === "future") {
    if (seen.has(source)) throw new PipelineDefinitionError(`future '${input.name}' is filled by itself`);
    seen.add(source);
    if (!source.filledBy) {
      throw new PipelineDefinitionError(
        `future '${source.name}' (used by '${consumer.name}') is never filled: call stream.fillFuture(future) to close the loop`,
      );
    }
    source = source.filledBy;
    feedback = true;
  }
  return { source, feedback };
}

function operatorParallelism(t: Transformation, inputs: Array<{ source: Transformation }>, known: Map<number, number>): number {
  const requested = t.options.parallelism ?? 1;
  if (t.kind === "keyBy") {
    // A key selector runs where its input runs, so the hash exchange happens right after it.
    const upstream = inputs[0]!.source;
    return known.get(upstream.id) ?? upstream.options.parallelism ?? 1;
  }
  if ((t.kind === "batch" || t.kind === "source") && requested > 1 && !(typeof t.fn === "function" && isClass(t.fn))) {
    throw new PipelineDefinitionError(
      `source '${t.name}': parallelism ${requested} needs a source class (each instance reads its own share via ctx.instanceIndex)`,
    );
  }
  return requested;
}
