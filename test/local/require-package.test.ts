import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runNode as run } from "../support/cluster.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));

// A CommonJS project (no "type": "module") that requires the built package: Node 20.19 and later
// load ES modules with require(). It failed with ERR_PACKAGE_PATH_NOT_EXPORTED (no "require" or
// "default" condition in the package's exports).
describe("the built package from CommonJS", () => {
  let project: string;

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), "sage-require-"));
    mkdirSync(join(project, "node_modules"));
    symlinkSync(repo, join(project, "node_modules", "sage"));
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "cjs-app" }));
  });

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("require('sage') and require('sage/llm') load the package; a job runs and the process exits by itself", async () => {
    writeFileSync(
      join(project, "job.cjs"),
      `const { LocalEnvironment } = require("sage");
const { HashingEmbedder } = require("sage/llm");
const env = new LocalEnvironment("from-cjs", { logLevel: "warn" });
const seen = [];
env.fromBatch([1, 2, 3]).map((x) => x * 2).sink((x) => seen.push(x));
env.submit({ autostop: true }).then((job) => job.status()).then((status) => console.log(JSON.stringify({ seen, state: status.state, embedder: typeof HashingEmbedder })));
`,
    );
    const { code, stdout, stderr } = await run([join(project, "job.cjs")]);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ seen: [2, 4, 6], state: "finished", embedder: "function" });
    expect(stderr).not.toMatch(/ExperimentalWarning|ERR_/);
  });
});
