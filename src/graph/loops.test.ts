import { describe, expect, it } from "vitest";
import { LocalEnvironment, PipelineDefinitionError } from "../index.js";
import { chainOperators } from "./chain.js";
import { compile } from "./compile.js";
import type { EdgeSpec, ExecutionGraph, TaskSpec } from "./execution-graph.js";
import { buildLogicalGraph } from "./logical-graph.js";
import { findLoops } from "./loops.js";

const id = <T>(x: T): T => x;
const drop = (): void => undefined;

/** Task edges as "FromTask -> ToTask: loop", tasks named by their (fused) name. */
function loopTags(graph: Pick<ExecutionGraph, "tasks" | "edges">): string[] {
  const name = new Map(graph.tasks.map((t) => [t.id, t.name]));
  return graph.edges.map((e) => `${name.get(e.from)} -> ${name.get(e.to)}: ${e.loop ?? "-"}`);
}

function loopMembers(graph: ExecutionGraph): string[][] {
  const name = new Map(graph.tasks.map((t) => [t.id, t.name]));
  return graph.loops.map((loop) => loop.tasks.map((t) => name.get(t)!).sort());
}

/** Source -> Merge(source, future) -> Again -> Inc -> back into Merge; Merge also feeds Out. */
function declareCountingLoop(env: LocalEnvironment, prefix = ""): void {
  const future = env.fromFuture<number>(`${prefix}Back`);
  const merged = env.fromBatch([1], { name: `${prefix}S` }).connect(future).coMap([id, id], { name: `${prefix}Merge` });
  merged
    .filter((x: number) => x < 10, { name: `${prefix}Again` })
    .map((x: number) => x + 1, { name: `${prefix}Inc` })
    .fillFuture(future);
  merged.sink(drop, { name: `${prefix}Out` });
}

function tasksAndEdges(env: LocalEnvironment): { tasks: TaskSpec[]; edges: EdgeSpec[] } {
  return chainOperators(buildLogicalGraph(env.pipeline));
}

describe("findLoops", () => {
  it("finds no loop in an acyclic pipeline and tags no edge", () => {
    const env = new LocalEnvironment();
    env.fromBatch([1], { name: "S" }).map(id, { name: "A", parallelism: 2 }).sink(drop, { name: "K" });
    const { tasks, edges } = tasksAndEdges(env);

    expect(findLoops(tasks, edges)).toEqual([]);
    expect(edges.every((e) => !("loop" in e))).toBe(true);
  });

  it("marks the edges inside a loop of several tasks and leaves the edges entering and leaving it alone", () => {
    const env = new LocalEnvironment();
    declareCountingLoop(env);

    const graph = compile(env);

    expect(loopTags(graph)).toEqual([
      "S -> Merge: -",
      "Again -> Inc -> Merge: 0",
      "Merge -> Again -> Inc: 0",
      "Merge -> Out: -",
    ]);
    expect(graph.loops.map((l) => l.id)).toEqual([0]);
    expect(loopMembers(graph)).toEqual([["Again -> Inc", "Merge"]]);
  });

  it("finds a loop closed inside a single fused task through its self edge", () => {
    const env = new LocalEnvironment();
    const future = env.fromFuture<number>("Back");
    const merged = env.fromBatch([1], { name: "S" }).connect(future).coMap([id, id], { name: "Merge" });
    merged.map(id, { name: "Step" }).fillFuture(future);

    const graph = compile(env);

    expect(loopTags(graph)).toEqual(["S -> Merge -> Step: -", "Merge -> Step -> Merge -> Step: 0"]);
    expect(loopMembers(graph)).toEqual([["Merge -> Step"]]);
  });

  it("gives independent loops their own ids", () => {
    const env = new LocalEnvironment();
    declareCountingLoop(env, "x");
    declareCountingLoop(env, "y");

    const graph = compile(env);

    expect(graph.loops.map((l) => l.id).sort()).toEqual([0, 1]);
    expect(loopMembers(graph).sort()).toEqual([
      ["xAgain -> xInc", "xMerge"],
      ["yAgain -> yInc", "yMerge"],
    ]);
    const xLoop = graph.edges.find((e) => e.feedback && graph.tasks.find((t) => t.id === e.to)!.name === "xMerge")!.loop;
    const yLoop = graph.edges.find((e) => e.feedback && graph.tasks.find((t) => t.id === e.to)!.name === "yMerge")!.loop;
    expect(new Set([xLoop, yLoop])).toEqual(new Set([0, 1]));
  });

  it("includes parallel tasks joined by rebalance edges in the loop", () => {
    const env = new LocalEnvironment();
    const future = env.fromFuture<number>("Back");
    const merged = env.fromBatch([1], { name: "S" }).connect(future).coMap([id, id], { name: "Merge" });
    merged.map(id, { name: "Wide", parallelism: 4 }).fillFuture(future);

    const graph = compile(env);

    expect(loopMembers(graph)).toEqual([["Merge", "Wide"]]);
    expect(graph.edges.filter((e) => e.loop === 0).map((e) => e.partition)).toEqual(["rebalance", "rebalance"]);
  });

  it.each<{ title: string; build: (env: LocalEnvironment) => void; message: RegExp }>([
    {
      title: "a loop of one task",
      build: (env) => {
        const future = env.fromFuture<number>("F");
        future.map(id, { name: "Spin" }).fillFuture(future);
      },
      message: /feedback loop \[Spin\] has no input from outside the loop/,
    },
    {
      title: "a loop of several tasks",
      build: (env) => {
        const future = env.fromFuture<number>("F");
        future.map(id, { name: "Up", parallelism: 2 }).map(id, { name: "Down" }).fillFuture(future);
      },
      message: /feedback loop \[(Up, Down|Down, Up)\] has no input from outside the loop/,
    },
  ])("rejects $title with no input from outside the loop", ({ build, message }) => {
    const env = new LocalEnvironment();
    env.fromBatch([1], { name: "S" }).sink(drop, { name: "K" });
    build(env);
    const { tasks, edges } = tasksAndEdges(env);

    expect(() => findLoops(tasks, edges)).toThrow(PipelineDefinitionError);
    expect(() => findLoops(tasks, edges)).toThrow(message);
  });
});
