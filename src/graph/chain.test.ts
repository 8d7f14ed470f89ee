import { describe, expect, it } from "vitest";
import { LocalEnvironment } from "../index.js";
import { chainOperators, headOf } from "./chain.js";
import { compile } from "./compile.js";
import type { ExecutionGraph } from "./execution-graph.js";
import { buildLogicalGraph } from "./logical-graph.js";

const id = <T>(x: T): T => x;
const drop = (): void => undefined;

/** Each task as its fused operator names joined by " -> ", with its parallelism. */
function describeTasks(graph: Pick<ExecutionGraph, "tasks">): string[] {
  return graph.tasks.map((t) => `${t.operators.map((op) => op.name).join(" -> ")} (p=${t.parallelism})`);
}

/** Task edges as "FromTask -partition-> ToTask[input]", tasks named by their head operator. */
function describeEdges(graph: Pick<ExecutionGraph, "tasks" | "edges">): string[] {
  const head = new Map(graph.tasks.map((t) => [t.id, headOf(t).name]));
  return graph.edges.map((e) => `${head.get(e.from)} -${e.partition}${e.feedback ? "~" : ""}-> ${head.get(e.to)}[${e.inputIndex}]`);
}

describe("chainOperators", () => {
  it.each<{ title: string; build: (env: LocalEnvironment) => void; tasks: string[]; edges: string[] }>([
    {
      title: "fuses a forward chain into one task",
      build: (env) =>
        env
          .fromBatch([1], { name: "S" })
          .map(id, { name: "A" })
          .filter(() => true, { name: "B" })
          .flatMap((x) => [x], { name: "C" })
          .sink(drop, { name: "K" }),
      tasks: ["S -> A -> B -> C -> K (p=1)"],
      edges: [],
    },
    {
      title: "fuses a forward chain of parallel operators with equal parallelism",
      build: (env) =>
        env.fromBatch([1], { name: "S" }).map(id, { name: "A", parallelism: 3 }).map(id, { name: "B", parallelism: 3 }),
      tasks: ["S (p=1)", "A -> B (p=3)"],
      edges: ["S -rebalance-> A[0]"],
    },
    {
      title: "fuses a hash edge when both sides have one instance",
      build: (env) => env.fromBatch([1], { name: "S" }).keyBy(id, { name: "Key" }).map(id, { name: "A" }).sink(drop, { name: "K" }),
      tasks: ["S -> Key -> A -> K (p=1)"],
      edges: [],
    },
    {
      title: "keeps a hash edge between parallel operators as an exchange",
      build: (env) =>
        env
          .fromBatch([1], { name: "S" })
          .map(id, { name: "A", parallelism: 2 })
          .keyBy(id, { name: "Key" })
          .map(id, { name: "B", parallelism: 2 }),
      tasks: ["S (p=1)", "A -> Key (p=2)", "B (p=2)"],
      edges: ["S -rebalance-> A[0]", "A -hash-> B[0]"],
    },
    {
      title: "does not fuse operators of different parallelism",
      build: (env) =>
        env
          .fromBatch([1], { name: "S" })
          .map(id, { name: "A", parallelism: 2 })
          .map(id, { name: "B", parallelism: 4 })
          .sink(drop, { name: "K" }),
      tasks: ["S (p=1)", "A (p=2)", "B (p=4)", "K (p=1)"],
      edges: ["S -rebalance-> A[0]", "A -rebalance-> B[0]", "B -rebalance-> K[0]"],
    },
    {
      title: "does not fuse the consumers of a stream consumed twice",
      build: (env) => {
        const shared = env.fromBatch([1], { name: "S" }).map(id, { name: "A" });
        shared.sink(drop, { name: "K1" });
        shared.map(id, { name: "B" }).sink(drop, { name: "K2" });
      },
      tasks: ["S -> A (p=1)", "K1 (p=1)", "B -> K2 (p=1)"],
      edges: ["S -forward-> K1[0]", "S -forward-> B[0]"],
    },
    {
      title: "does not fuse an operator with several inputs",
      build: (env) => {
        const a = env.fromBatch([1], { name: "A" });
        const b = env.fromBatch([2], { name: "B" });
        a.connect(b).coMap([id, id], { name: "Co" }).sink(drop, { name: "K" });
      },
      tasks: ["A (p=1)", "B (p=1)", "Co -> K (p=1)"],
      edges: ["A -forward-> Co[0]", "B -forward-> Co[1]"],
    },
    {
      title: "does not fuse a remote operator with a local one",
      build: (env) =>
        env
          .fromBatch([1], { name: "S" })
          .map(id, { name: "Local" })
          .map(id, { name: "Far", remote: true })
          .sink(drop, { name: "K", remote: true }),
      tasks: ["S -> Local (p=1)", "Far -> K (p=1)"],
      edges: ["S -forward-> Far[0]"],
    },
  ])("$title", ({ build, tasks, edges }) => {
    const env = new LocalEnvironment();
    build(env);

    const graph = compile(env);

    expect(describeTasks(graph)).toEqual(tasks);
    expect(describeEdges(graph)).toEqual(edges);
  });

  it("names a fused task after its operators and numbers tasks in declaration order", () => {
    const env = new LocalEnvironment();
    env.fromBatch([1], { name: "Read" }).map(id, { name: "Parse" }).map(id, { name: "Write", parallelism: 2 });

    const { tasks } = compile(env);

    expect(tasks.map((t) => [t.id, t.name])).toEqual([
      ["t0", "Read -> Parse"],
      ["t1", "Write"],
    ]);
  });

  it("takes the remote flag and parallelism of a task from its operators", () => {
    const env = new LocalEnvironment();
    env.fromBatch([1], { name: "S" }).map(id, { name: "Far", remote: true, parallelism: 2 });

    const { tasks } = compile(env);

    expect(tasks.map((t) => ({ name: t.name, remote: t.remote, parallelism: t.parallelism }))).toEqual([
      { name: "S", remote: false, parallelism: 1 },
      { name: "Far", remote: true, parallelism: 2 },
    ]);
  });

  it("never fuses a feedback edge, even between operators that could chain", () => {
    const env = new LocalEnvironment();
    const future = env.fromFuture<number>("Back");
    const merged = env.fromBatch([1], { name: "S" }).connect(future).coMap([id, id], { name: "Merge" });
    merged.map(id, { name: "Step" }).fillFuture(future);

    const { tasks, edges } = chainOperators(buildLogicalGraph(env.pipeline));

    expect(describeTasks({ tasks })).toEqual(["S (p=1)", "Merge -> Step (p=1)"]);
    expect(describeEdges({ tasks, edges })).toEqual(["S -forward-> Merge[0]", "Merge -forward~-> Merge[1]"]);
  });

  it("numbers task edges consecutively and keeps their input index", () => {
    const env = new LocalEnvironment();
    const a = env.fromBatch([1], { name: "A" });
    const b = env.fromBatch([2], { name: "B" });
    a.connect(b).sink(drop, { name: "Both" });

    const { edges } = compile(env);

    expect(edges.map((e) => ({ id: e.id, inputIndex: e.inputIndex, feedback: e.feedback }))).toEqual([
      { id: 0, inputIndex: 0, feedback: false },
      { id: 1, inputIndex: 1, feedback: false },
    ]);
  });
});
