import { describe, expect, it } from "vitest";
import { LocalEnvironment, PipelineDefinitionError, replyTo, type ServiceRequest } from "../index.js";
import { compile } from "./compile.js";

const id = <T>(x: T): T => x;
const same = (request: ServiceRequest): ServiceRequest => request;
const drop = (): void => undefined;

function definitionError(build: (env: LocalEnvironment) => void): PipelineDefinitionError {
  const env = new LocalEnvironment("serving", { logLevel: "silent" });
  try {
    build(env);
    compile(env);
  } catch (error) {
    expect(error).toBeInstanceOf(PipelineDefinitionError);
    return error as PipelineDefinitionError;
  }
  throw new Error("expected a PipelineDefinitionError");
}

describe("compile - pipelines served as services", () => {
  it("records the served pipeline's source task and every task downstream of it, and leaves the callers out", () => {
    const env = new LocalEnvironment("serving");
    const requests = env.fromService<number>("double", { maxPending: 4 });
    const doubled = requests.map((r: ServiceRequest<number>) => ({ ...r, payload: r.payload * 2 }), { parallelism: 2 });
    doubled.sink(replyTo("double"));
    doubled.print();
    env.fromBatch([1, 2]).map(id).sink(drop);

    const graph = compile(env);

    expect(graph.serving).toHaveLength(1);
    const [spec] = graph.serving!;
    expect(spec!.service).toBe("double");
    const names = spec!.tasks.map((t) => graph.tasks.find((task) => task.id === t)!.name);
    expect(names[0]).toBe("double");
    expect(names.slice(1).sort()).toEqual(["Print", "map#1", "replyTo(double)"]);
    expect(graph.operators.find((op) => op.name === "double")).toMatchObject({ kind: "source", serves: "double" });
    expect(graph.operators.find((op) => op.name === "replyTo(double)")).toMatchObject({ kind: "sink", replies: "double" });
    expect(graph.services).toEqual([{ name: "double", remote: false, maxConcurrency: 10_000 }]);
  });

  it("has no serving entry for a job without served pipelines", () => {
    const env = new LocalEnvironment();
    env.fromBatch([1]).sink(drop);
    expect(compile(env).serving).toBeUndefined();
  });

  it.each<{ title: string; build: (env: LocalEnvironment) => void; message: RegExp }>([
    {
      title: "a served pipeline nobody answers",
      build: (env) => env.fromService("orders").map(same).sink(drop),
      message: /fromService\('orders'\) is never answered: end its pipeline with \.sink\(replyTo\('orders'\)\)/,
    },
    {
      title: "a reply to a service no pipeline serves",
      build: (env) => {
        env.fromService("orders").sink(replyTo("orders"));
        env.fromBatch([{ id: "1" }]).sink(replyTo("order"));
      },
      message: /replyTo\('order'\) in operator 'replyTo\(order\)': no pipeline serves 'order'/,
    },
    {
      title: "a reply that does not follow the requests it answers",
      build: (env) => {
        env.fromService("a").sink(replyTo("a"));
        env.fromService("b").map(same).sink(replyTo("a"), { name: "Misplaced" }).sink(replyTo("b"));
      },
      message: /replyTo\('a'\) in operator 'Misplaced' is not downstream of fromService\('a'\)/,
    },
    {
      title: "a remote operator inside a served pipeline",
      build: (env) => env.fromService("orders").map(same, { remote: true, name: "Score" }).sink(replyTo("orders")),
      message: /operator 'Score' is part of the pipeline serving 'orders' and cannot run with remote: true/,
    },
  ])("rejects $title", ({ build, message }) => {
    expect(definitionError(build).message).toMatch(message);
  });

  it.each<{ title: string; build: (env: LocalEnvironment) => void; message: RegExp }>([
    {
      title: "a second pipeline serving the same name",
      build: (env) => {
        env.fromService("orders");
        env.fromService("orders");
      },
      message: /fromService\('orders'\): a service named 'orders' is already registered/,
    },
    {
      title: "a pipeline serving the name of a registered service",
      build: (env) => {
        env.registerService("orders", () => ({}));
        env.fromService("orders");
      },
      message: /a service named 'orders' is already registered/,
    },
    {
      title: "a service registered under a served pipeline's name",
      build: (env) => {
        env.fromService("orders");
        env.registerService("orders", () => ({}));
      },
      message: /service 'orders' is already served by a pipeline/,
    },
    {
      title: "replyTo used as a map",
      build: (env) => env.fromService("orders").map(replyTo("orders")),
      message: /replyTo\('orders'\) answers requests as a sink: use \.sink\(replyTo\(\.\.\.\)\), not \.map\(\)/,
    },
    { title: "a maxPending of zero", build: (env) => env.fromService("orders", { maxPending: 0 }), message: /maxPending must be a positive integer, got 0/ },
    { title: "a negative timeout", build: (env) => env.fromService("orders", { timeoutMs: -1 }), message: /timeoutMs must be a positive number/ },
    { title: "an empty name", build: (env) => env.fromService(""), message: /fromService\(\) needs a non-empty service name/ },
  ])("refuses $title when it is declared", ({ build, message }) => {
    expect(definitionError(build).message).toMatch(message);
  });
});
