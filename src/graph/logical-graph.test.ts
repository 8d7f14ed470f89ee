import { describe, expect, it } from "vitest";
import { BatchFunction, LocalEnvironment, PipelineDefinitionError, type DataStream, type SourceOptions } from "../index.js";
import { buildLogicalGraph, type LogicalGraph } from "./logical-graph.js";

const id = <T>(x: T): T => x;
const drop = (): void => undefined;

/** Edges as "From -partition-> To[input]" lines, feedback marked with "~". */
function describeEdges(graph: LogicalGraph): string[] {
  const nameOf = new Map(graph.operators.map((op) => [op.fnRef, op.name]));
  return graph.edges.map(
    (e) => `${nameOf.get(e.from)} -${e.partition}${e.feedback ? "~" : ""}-> ${nameOf.get(e.to)}[${e.inputIndex}]`,
  );
}

class Numbers extends BatchFunction<number> {
  #next = 0;
  execute(): number | null {
    return this.#next < 3 ? this.#next++ : null;
  }
}

describe("buildLogicalGraph", () => {
  it("runs a key selector where its input runs: after a remote stage it is remote too, unless it says otherwise", () => {
    const env = new LocalEnvironment("remote-keys");
    const remoteStage = env.fromBatch([1, 2]).map((x: number) => x, { remote: true, parallelism: 2 });
    remoteStage.keyBy((x: number) => x).sink(() => {});
    remoteStage.keyBy((x: number) => x, { remote: false }).sink(() => {});
    env.fromBatch([3]).keyBy((x: number) => x).sink(() => {});
    const keyBys = buildLogicalGraph(env.pipeline).operators.filter((op) => op.kind === "keyBy");
    expect(keyBys.map((op) => [op.remote, op.parallelism])).toEqual([
      [true, 2],
      [false, 2],
      [false, 1],
    ]);
  });

  it("records one operator per declared transformation with its kind, options and input count", () => {
    const env = new LocalEnvironment("ops");
    const source = env.fromBatch([1, 2, 3], { name: "Nums" });
    source
      .map((x: number) => x * 2, { name: "Double", parallelism: 2, concurrency: 4 })
      .filter((x: number) => x > 0, { name: "Keep", parallelism: 2 })
      .sink(drop, { name: "Out", remote: true });

    const graph = buildLogicalGraph(env.pipeline);

    expect(graph.operators).toEqual([
      { fnRef: 0, name: "Nums", kind: "batch", parallelism: 1, concurrency: 1, remote: false, inputCount: 0 },
      { fnRef: 1, name: "Double", kind: "map", parallelism: 2, concurrency: 4, remote: false, inputCount: 1 },
      { fnRef: 2, name: "Keep", kind: "filter", parallelism: 2, concurrency: 1, remote: false, inputCount: 1 },
      { fnRef: 3, name: "Out", kind: "sink", parallelism: 1, concurrency: 1, remote: true, inputCount: 1 },
    ]);
  });

  it("gives operators unique names derived from the function or the kind", () => {
    const env = new LocalEnvironment();
    function upper(s: string): string {
      return s.toUpperCase();
    }
    env
      .fromBatch(["a"])
      .map(upper)
      .map(upper)
      .map((s) => s)
      .map((s) => s);

    const names = buildLogicalGraph(env.pipeline).operators.map((op) => op.name);

    expect(names).toEqual(["batch#0", "upper", "upper_1", "map#3", "map#4"]);
  });

  it.each<{ title: string; build: (env: LocalEnvironment) => void; edges: string[] }>([
    {
      title: "equal parallelism is forward",
      build: (env) => env.fromBatch([1], { name: "S" }).map(id, { name: "A" }).sink(drop, { name: "K" }),
      edges: ["S -forward-> A[0]", "A -forward-> K[0]"],
    },
    {
      title: "a parallelism change is rebalance",
      build: (env) =>
        env
          .fromBatch([1], { name: "S" })
          .map(id, { name: "A", parallelism: 3 })
          .map(id, { name: "B", parallelism: 2 })
          .sink(drop, { name: "K" }),
      edges: ["S -rebalance-> A[0]", "A -rebalance-> B[0]", "B -rebalance-> K[0]"],
    },
    {
      title: "the edge after keyBy is hash, whatever the parallelism",
      build: (env) => {
        const keyed = env.fromBatch([1], { name: "S" }).keyBy(id, { name: "Key" });
        keyed.map(id, { name: "Same" });
        keyed.map(id, { name: "Wide", parallelism: 4 });
      },
      edges: ["S -forward-> Key[0]", "Key -hash-> Same[0]", "Key -hash-> Wide[0]"],
    },
    {
      title: "connected inputs keep their input index",
      build: (env) => {
        const a = env.fromBatch([1], { name: "A" });
        const b = env.fromBatch([2], { name: "B" });
        const c = env.fromBatch([3], { name: "C" });
        a.connect(b).connect(c).coMap([id, id, id], { name: "Co" });
      },
      edges: ["A -forward-> Co[0]", "B -forward-> Co[1]", "C -forward-> Co[2]"],
    },
  ])("chooses partitions: $title", ({ build, edges }) => {
    const env = new LocalEnvironment();
    build(env);

    expect(describeEdges(buildLogicalGraph(env.pipeline))).toEqual(edges);
  });

  it("runs a key selector at its input's parallelism", () => {
    const env = new LocalEnvironment();
    env
      .fromBatch([1], { name: "S" })
      .map(id, { name: "Wide", parallelism: 3 })
      .keyBy(id, { name: "Key" })
      .map(id, { name: "After", parallelism: 2 });

    const graph = buildLogicalGraph(env.pipeline);

    expect(graph.operators.find((op) => op.name === "Key")!.parallelism).toBe(3);
    expect(describeEdges(graph)).toEqual(["S -rebalance-> Wide[0]", "Wide -forward-> Key[0]", "Key -hash-> After[0]"]);
  });

  it("keys both inputs of a join and sends them over hash edges", () => {
    const env = new LocalEnvironment();
    const a = env.fromBatch([{ id: 1 }], { name: "A" });
    const b = env.fromBatch([{ id: 1 }], { name: "B" });
    a.connect(b)
      .keyBy([(x: { id: number }) => x.id, (x: { id: number }) => x.id], { name: "K" })
      .join(() => [], { name: "J", parallelism: 2 });

    const graph = buildLogicalGraph(env.pipeline);

    expect(describeEdges(graph)).toEqual(["A -forward-> K_0[0]", "B -forward-> K_1[0]", "K_0 -hash-> J[0]", "K_1 -hash-> J[1]"]);
    expect(graph.operators.find((op) => op.name === "J")).toMatchObject({ kind: "join", inputCount: 2, parallelism: 2 });
  });

  // Regression: isClass() (src/api/service.ts) once took built-ins whose prototype has methods
  // (Boolean, String, Number) for classes and rejected `.filter(Boolean)` and `.map(String)`.
  it.each([
    ["filter", Boolean],
    ["map", String],
  ] as const)("accepts the built-in %s function as a plain function", (kind, fn) => {
    const env = new LocalEnvironment();
    const stream = env.fromBatch([0, 1, 2]);
    if (kind === "filter") stream.filter(fn);
    else stream.map(fn);

    expect(buildLogicalGraph(env.pipeline).operators).toHaveLength(2);
  });

  it("rejects a join on an unkeyed input when it is declared", () => {
    const env = new LocalEnvironment();
    const a = env.fromBatch([1], { name: "A" });
    const b = env.fromBatch([2], { name: "B" }).keyBy(id, { name: "KeyB" });

    expect(() => a.connect(b).join(() => [], { name: "J" })).toThrow(PipelineDefinitionError);
    expect(() => a.connect(b).join(() => [], { name: "J" })).toThrow(/join 'J': input 0 \('A'\) is not keyed/);
    expect(env.pipeline.some((t) => t.kind === "join")).toBe(false);
  });

  it("drops futures and turns the filled future into a feedback edge from the filling stream", () => {
    const env = new LocalEnvironment();
    const future = env.fromFuture<number>("Back");
    const merged = env.fromBatch([1], { name: "S" }).connect(future).coMap([id, id], { name: "Merge" });
    merged.filter((x: number) => x < 10, { name: "Again" }).map((x: number) => x + 1, { name: "Inc" }).fillFuture(future);
    merged.sink(drop, { name: "Out" });

    const graph = buildLogicalGraph(env.pipeline);

    expect(graph.operators.map((op) => op.kind)).not.toContain("future");
    expect(graph.operators.map((op) => op.name)).toEqual(["S", "Merge", "Again", "Inc", "Out"]);
    expect(describeEdges(graph)).toEqual([
      "S -forward-> Merge[0]",
      "Inc -forward~-> Merge[1]",
      "Merge -forward-> Again[0]",
      "Again -forward-> Inc[0]",
      "Merge -forward-> Out[0]",
    ]);
  });

  it("chooses the partition of a feedback edge from the parallelism of both ends", () => {
    const env = new LocalEnvironment();
    const future = env.fromFuture<number>("Back");
    const merged = env.fromBatch([1], { name: "S" }).connect(future).coMap([id, id], { name: "Merge" });
    merged.map(id, { name: "Wide", parallelism: 4 }).fillFuture(future);

    const graph = buildLogicalGraph(env.pipeline);

    expect(describeEdges(graph)).toContain("Wide -rebalance~-> Merge[1]");
  });

  it("resolves a future filled by another future to the real stream", () => {
    const env = new LocalEnvironment();
    const outer = env.fromFuture<number>("Outer");
    const inner = env.fromFuture<number>("Inner");
    const merged = env.fromBatch([1], { name: "S" }).connect(outer).coMap([id, id], { name: "Merge" });
    inner.fillFuture(outer);
    merged.map(id, { name: "Step" }).fillFuture(inner);

    expect(describeEdges(buildLogicalGraph(env.pipeline))).toContain("Step -forward~-> Merge[1]");
  });

  it("rejects a future that is never filled, naming it and its consumer", () => {
    const env = new LocalEnvironment();
    const future = env.fromFuture("Pending");
    env.fromBatch([1]).connect(future).coMap([id, id], { name: "Merge" });

    expect(() => buildLogicalGraph(env.pipeline)).toThrow(PipelineDefinitionError);
    expect(() => buildLogicalGraph(env.pipeline)).toThrow("future 'Pending' (used by 'Merge') is never filled");
  });

  it("rejects futures that fill each other", () => {
    const env = new LocalEnvironment();
    const a = env.fromFuture("A");
    const b = env.fromFuture("B");
    a.fillFuture(b);
    b.fillFuture(a);
    env.fromBatch([1]).connect(a).coMap([id, id]);

    expect(() => buildLogicalGraph(env.pipeline)).toThrow(/future '.*' is filled by itself/);
  });

  it.each<{ title: string; build: (env: LocalEnvironment) => void }>([
    { title: "an empty pipeline", build: () => undefined },
    { title: "a pipeline of futures only", build: (env) => env.fromFuture("F").map(id).fillFuture(env.fromFuture("G")) },
  ])("rejects $title as having no source", ({ build }) => {
    const env = new LocalEnvironment();
    build(env);

    expect(() => buildLogicalGraph(env.pipeline)).toThrow(PipelineDefinitionError);
    expect(() => buildLogicalGraph(env.pipeline)).toThrow(/has no source/);
  });

  it("rejects parallelism above 1 for a source that is not a class", () => {
    const env = new LocalEnvironment();
    env.fromBatch([1, 2], { name: "Arr", parallelism: 2 } as SourceOptions);

    expect(() => buildLogicalGraph(env.pipeline)).toThrow(/source 'Arr': parallelism 2 needs a source class/);
  });

  it("accepts parallelism above 1 for a source class", () => {
    const env = new LocalEnvironment();
    const stream: DataStream<number> = env.fromBatch(Numbers, { name: "Nums", parallelism: 3 } as SourceOptions);
    stream.sink(drop, { name: "Out", parallelism: 3 });

    const graph = buildLogicalGraph(env.pipeline);

    expect(graph.operators[0]).toMatchObject({ name: "Nums", parallelism: 3 });
    expect(describeEdges(graph)).toEqual(["Nums -forward-> Out[0]"]);
  });
});
