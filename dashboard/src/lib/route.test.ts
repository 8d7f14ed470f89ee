import { describe, expect, it } from "vitest";
import { parseRoute, routeHash, type Route } from "./route.js";

describe("dashboard routes", () => {
  it.each<[string, Route]>([
    ["", { name: "overview", filter: { state: "", query: "", page: 1 } }],
    ["#/", { name: "overview", filter: { state: "", query: "", page: 1 } }],
    ["#/?state=running&q=rag%20qa&page=3", { name: "overview", filter: { state: "running", query: "rag qa", page: 3 } }],
    ["#/?page=-2", { name: "overview", filter: { state: "", query: "", page: 1 } }],
    ["#/jobs/5f0c8a2e-1111-4222-8333-444455556666", { name: "job", id: "5f0c8a2e-1111-4222-8333-444455556666" }],
    ["#/jobs/a%2Fb", { name: "job", id: "a/b" }],
    ["#/jobs/%E0%A4%A", { name: "job", id: "%E0%A4%A" }],
    ["#/nowhere", { name: "overview", filter: { state: "", query: "", page: 1 } }],
  ])("reads %s", (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it("writes hashes that read back as the same route", () => {
    for (const route of [
      { name: "overview", filter: { state: "", query: "", page: 1 } },
      { name: "overview", filter: { state: "failed", query: "a&b=c #x", page: 2 } },
      { name: "job", id: "id/with?odd#chars" },
    ] satisfies Route[]) {
      expect(parseRoute(routeHash(route))).toEqual(route);
    }
    expect(routeHash({ name: "overview", filter: { state: "", query: "", page: 1 } })).toBe("#/");
  });
});
