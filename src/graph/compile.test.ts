import { describe, expect, it } from "vitest";
import { BaseService, LocalEnvironment, PipelineDefinitionError } from "../index.js";
import { compile } from "./compile.js";

const id = <T>(x: T): T => x;
const drop = (): void => undefined;

class Llm extends BaseService {
  ask(q: string): string {
    return q;
  }
}

const pipelines: Array<{ title: string; build: (env: LocalEnvironment) => void }> = [
  {
    title: "a fused forward chain",
    build: (env) => env.fromBatch([1, 2, 3]).map(id).filter(() => true).sink(drop),
  },
  {
    title: "a keyed exchange into parallel instances",
    build: (env) => env.fromBatch([{ k: 1 }]).keyBy((r) => r.k).map(id, { parallelism: 4, concurrency: 8 }).print(),
  },
  {
    title: "a keyed join of two sources",
    build: (env) => {
      const a = env.fromBatch([{ id: 1 }]);
      const b = env.fromBatch([{ id: 1 }]);
      a.connect(b)
        .keyBy((x: { id: number }) => x.id)
        .join(() => [], { parallelism: 2 })
        .sink(drop);
    },
  },
  {
    title: "a feedback loop with services",
    build: (env) => {
      env.registerService("llm", Llm, { maxConcurrency: 4 });
      env.registerService("kv", () => ({ get: () => 1 }), { remote: true });
      const future = env.fromFuture<number>("Back");
      const merged = env.fromBatch([1]).connect(future).coMap([id, id]);
      merged.filter((x: number) => x < 3).map((x: number) => x + 1, { parallelism: 2 }).fillFuture(future);
      merged.sink(drop);
    },
  },
];

describe("compile", () => {
  it("carries the environment's name, the operators, tasks, edges, loops and services", () => {
    const env = new LocalEnvironment("job-a");
    pipelines[3]!.build(env);

    const graph = compile(env);

    expect(graph.name).toBe("job-a");
    expect(graph.operators.map((op) => op.kind)).toEqual(["batch", "coMap", "filter", "map", "sink"]);
    expect(graph.tasks.length).toBeGreaterThan(0);
    expect(graph.edges.some((e) => e.feedback)).toBe(true);
    expect(graph.loops).toHaveLength(1);
    expect(graph.services).toEqual([
      { name: "llm", remote: false, maxConcurrency: 4 },
      { name: "kv", remote: true, maxConcurrency: 1 },
    ]);
  });

  it.each(pipelines)("produces a JSON-safe graph for $title", ({ build }) => {
    const env = new LocalEnvironment();
    build(env);

    const graph = compile(env);

    expect(JSON.parse(JSON.stringify(graph))).toStrictEqual(graph);
  });

  it.each(pipelines)("compiles $title to the same graph every time", ({ build }) => {
    const first = new LocalEnvironment("same");
    const second = new LocalEnvironment("same");
    build(first);
    build(second);

    const graph = compile(first);

    expect(compile(first)).toStrictEqual(graph);
    expect(compile(second)).toStrictEqual(graph);
  });

  it("points every task edge at existing tasks and every operator at its transformation", () => {
    const env = new LocalEnvironment();
    pipelines[3]!.build(env);

    const graph = compile(env);
    const taskIds = new Set(graph.tasks.map((t) => t.id));

    for (const edge of graph.edges) {
      expect(taskIds.has(edge.from) && taskIds.has(edge.to)).toBe(true);
    }
    for (const op of graph.operators) {
      expect(env.pipeline[op.fnRef]!.name).toBe(op.name);
    }
    expect(graph.tasks.flatMap((t) => t.operators)).toHaveLength(graph.operators.length);
  });

  it.each<{ title: string; build: (env: LocalEnvironment) => void; message: RegExp }>([
    { title: "a pipeline with no source", build: () => undefined, message: /has no source/ },
    {
      title: "an unfilled future",
      build: (env) => env.fromBatch([1]).connect(env.fromFuture("Open")).coMap([id, id]),
      message: /future 'Open' .* is never filled/,
    },
    {
      title: "a loop with no input from outside",
      build: (env) => {
        env.fromBatch([1]).sink(drop);
        const future = env.fromFuture<number>("F");
        future.map(id, { name: "Spin" }).fillFuture(future);
      },
      message: /feedback loop \[Spin\] has no input from outside the loop/,
    },
  ])("rejects $title with a PipelineDefinitionError", ({ build, message }) => {
    const env = new LocalEnvironment();
    build(env);

    let error: unknown;
    try {
      compile(env);
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(PipelineDefinitionError);
    expect((error as PipelineDefinitionError).code).toBe("E_PIPELINE_DEFINITION");
    expect((error as Error).message).toMatch(message);
  });
});
