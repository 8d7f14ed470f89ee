import type { BaseEnvironment } from "../api/environment.js";
import { chainOperators } from "./chain.js";
import type { ExecutionGraph } from "./execution-graph.js";
import { buildLogicalGraph } from "./logical-graph.js";
import { findLoops } from "./loops.js";
import { findServing } from "./serving.js";

/** Compiles an environment's declared pipeline into the plain-data execution graph. */
export function compile(env: BaseEnvironment): ExecutionGraph {
  const logical = buildLogicalGraph(env.pipeline);
  const { tasks, edges } = chainOperators(logical);
  const loops = findLoops(tasks, edges);
  const serving = findServing(tasks, edges);
  const services = [...env.serviceFactories.values()].map((f) => ({
    name: f.name,
    remote: f.remote,
    maxConcurrency: f.options.maxConcurrency ?? 1,
  }));
  return { name: env.name, operators: logical.operators, tasks, edges, loops, services, ...(serving.length > 0 && { serving }) };
}
