import { describe, expect, it } from "vitest";
import { LocalEnvironment } from "../api/local-environment.js";
import { compile } from "./compile.js";
import { graphEdges } from "./graph-edges.js";

describe("graphEdges", () => {
  it("lists chained links and channels between tasks by operator name, with their partitioning", () => {
    const env = new LocalEnvironment("edges");
    env
      .fromBatch([1, 2, 3], { name: "src" })
      .map((x: number) => x + 1, { name: "inc" })
      .keyBy((x: number) => x % 2, { name: "key" })
      .map((x: number) => x, { name: "agg", parallelism: 2 })
      .sink(() => {}, { name: "out" });
    const edges = graphEdges(compile(env));
    expect(edges).toContainEqual({ from: "src", to: "inc", partition: "forward", chained: true });
    expect(edges).toContainEqual({ from: "key", to: "agg", partition: "hash" });
    // every operator but the source has an edge in
    const targets = new Set(edges.map((e) => e.to));
    for (const name of ["inc", "key", "agg", "out"]) expect(targets.has(name)).toBe(true);
  });
});
