import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runNode as run } from "../support/cluster.js";

const recorder = fileURLToPath(new URL("../fixtures/record-imports.mjs", import.meta.url));
const sageBin = fileURLToPath(new URL("../../bin/sage.js", import.meta.url));
const cliPipeline = fileURLToPath(new URL("../fixtures/cli-pipeline.ts", import.meta.url));
const packageEntry = new URL("../../dist/index.js", import.meta.url).href;
const distRoot = new URL("../../dist/", import.meta.url).href;
// Files of the built package a local job loads (18 when this was written; 78 before it was bundled).
const MAX_FILES_OF_A_LOCAL_JOB = 25;

// A bounded job is usually one process run, and what importing the package loads is part of its
// time: a local job loads none of the dependencies of the other modes (the WebSocket client alone
// was about half of the import, 60 ms on this machine).
describe("local mode - what a local job's process loads", () => {
  it("imports and runs a local job without the WebSocket client, esbuild, SQLite, NATS or the LLM clients", async () => {
    const script = `
      const { LocalEnvironment } = await import(${JSON.stringify(packageEntry)});
      const env = new LocalEnvironment("small", { logLevel: "warn" });
      const seen = [];
      env.fromBatch([1, 2, 3]).map((x) => x * 2).sink((x) => seen.push(x));
      await env.submit({ autostop: true });
      console.log(seen.join(","));
      // What require() loaded (CommonJS packages), which the resolve hook does not see.
      const { createRequire } = await import("node:module");
      console.log(Object.keys(createRequire(import.meta.url).cache).filter((file) => file.includes("/node_modules/")).join(" ") || "none");
    `;
    const { code, stdout, stderr } = await run(["--import", recorder, "--input-type=module", "-e", script]);
    expect(code, stderr).toBe(0);
    expect(stdout.trim().split("\n")).toEqual(["2,4,6", "none"]);
    // The recorder works: it saw the package itself being loaded.
    expect(stderr).toContain(`LOADED ${packageEntry}`);
    const packages = loadedPackages(stderr);
    expect([...packages]).toEqual([]);
    // The package is built into a few bundled files: Node loads each ES module file on its own
    // (resolve, read, compile, link), and the 78 files of a per-module build took about 65 ms.
    const ownFiles = new Set(stderr.split("\n").filter((line) => line.startsWith(`LOADED ${distRoot}`)));
    expect(ownFiles.size).toBeGreaterThan(0);
    expect(ownFiles.size, [...ownFiles].join("\n")).toBeLessThanOrEqual(MAX_FILES_OF_A_LOCAL_JOB);
  });
});

// Regression (this once failed): the runtime timed with `performance.now()`, and in Node 20 the first read of the
// global `performance` loads perf_hooks (seven internal modules): about 2 ms of a fresh process's first job.
describe("local mode - what a local job loads of Node itself", () => {
  it("runs a job with a service, a keyBy and an async map without loading perf_hooks", async () => {
    const script = `
      const { LocalEnvironment, BaseService } = await import(${JSON.stringify(packageEntry)});
      const perf = () => process.moduleLoadList.filter((name) => name.includes("perf")).length;
      const imported = perf();
      class Counter extends BaseService {
        n = 0;
        bump() { return ++this.n; }
        async later() { await new Promise((resolve) => setTimeout(resolve, 5)); return this.n; }
      }
      const env = new LocalEnvironment("clockless", { logLevel: "warn" });
      env.registerService("counter", Counter);
      const seen = [];
      env
        .fromBatch([1, 2, 3, 4])
        .map((x, ctx) => x + ctx.service("counter").bump())
        .keyBy((x) => x % 2)
        .map(async (x, ctx) => x + (await ctx.service("counter").later()), { concurrency: 2 })
        .sink((x) => seen.push(x));
      await env.submit({ autostop: true });
      const during = perf() - imported;
      performance.now();
      console.log(seen.length, during, perf() > imported);
    `;
    const { code, stdout, stderr } = await run(["--input-type=module", "-e", script]);
    expect(code, stderr).toBe(0);
    // Four records, no perf module during the job; reading \`performance\` after it does load them (the check works).
    expect(stdout.trim()).toBe("4 0 true");
  });
});

// The packages of the other modes: a local job, run either way, loads none of them.
const OTHER_MODES = ["ws", "better-sqlite3", "prom-client", "pino", "openai", "undici", "usearch", "gpt-tokenizer"];

// Regression (this once failed): `sage run` registered every command with its implementation, so running a local
// pipeline loaded the JobManager server (SQLite, ws, pino), NATS and prom-client: about 250 ms
// of a tiny pipeline's 670 ms run.
describe("local mode - what `sage run` of a local pipeline loads", () => {
  it("runs the pipeline without loading the server, NATS, metrics or LLM packages", async () => {
    const { code, stdout, stderr } = await run(["--import", recorder, sageBin, "run", cliPipeline]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("out: 3");
    const packages = loadedPackages(stderr);
    expect(packages.has("tsx"), [...packages].join(" ")).toBe(true); // the recorder works
    expect([...packages].filter((name) => OTHER_MODES.includes(name) || name.startsWith("@nats-io/"))).toEqual([]);
  });
});

function loadedPackages(stderr: string): Set<string> {
  return new Set(
    stderr
      .split("\n")
      .filter((line) => line.startsWith("LOADED ") && line.includes("/node_modules/"))
      .map((line) => {
        const path = line.slice(line.lastIndexOf("/node_modules/") + 14).split("/");
        return path[0]!.startsWith("@") ? `${path[0]}/${path[1]}` : path[0]!;
      }),
  );
}
