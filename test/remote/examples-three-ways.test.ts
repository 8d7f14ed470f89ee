/**
 * Every tutorial in examples/ prints the same under `sage run`, under `sage job submit`, and as a
 * script with LocalEnvironment swapped for RemoteEnvironment: remote mode behaves like a local run,
 * several pipelines per module included. Needs `npm run build` first (the examples import "sage").
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sageDone } from "../cli/sage-cli.js";
import { expected } from "../examples-expected.js";
import { closeTestServer, makeRepoTmpDir, runScript, startTestServer, type TestServer } from "./helpers.js";

const repoRoot = join(import.meta.dirname, "..", "..");

/** The example's source with every LocalEnvironment made a RemoteEnvironment of the test's server. */
function asRemoteScript(file: string, port: number): string {
  const source = readFileSync(join(repoRoot, "examples", file), "utf8");
  const swapped = source
    .replace(/\bLocalEnvironment\b(?=[^"]*\}\s*from "sage")/, "RemoteEnvironment")
    .replace(/new LocalEnvironment\(("[^"]*")(?:, (\{[^}]*\}))?\)/g, (_, name: string, config?: string) => `new RemoteEnvironment(${name}, { port: ${port}${config ? `, config: ${config}` : ""} })`);
  expect(swapped).not.toMatch(/LocalEnvironment/);
  return swapped;
}

/** Copies the modules an example imports by relative path (and theirs), keeping their places beside it. */
function copySharedModules(file: string, to: string): void {
  const seen = new Set<string>();
  const visit = (module: string): void => {
    const source = readFileSync(join(repoRoot, "examples", module), "utf8");
    for (const [, specifier] of source.matchAll(/from "(\.\.?\/[^"]+)\.js"/g)) {
      const imported = join(dirname(module), `${specifier}.ts`);
      if (seen.has(imported)) continue;
      seen.add(imported);
      const target = join(to, relative(dirname(file), imported));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(repoRoot, "examples", imported), target);
      visit(imported);
    }
  };
  visit(file);
}

describe("examples - the same output locally, submitted, and with RemoteEnvironment", () => {
  let server: TestServer;
  let dir: string;
  const address = () => ["--port", String(server.port), "--token", server.token];

  beforeAll(async () => {
    server = await startTestServer();
    dir = makeRepoTmpDir();
  });

  afterAll(() => closeTestServer(server, dir));

  for (const [file, output] of Object.entries(expected)) {
    it(`examples/${file}`, async () => {
      const local = await sageDone(["run", `examples/${file}`]);
      expect(local.code, local.stderr).toBe(0);
      expect(local.stdout).toBe(output);

      const submitted = await sageDone(["job", "submit", `examples/${file}`, ...address()]);
      expect(submitted.code, submitted.stderr).toBe(0);
      expect(submitted.stdout).toBe(output);

      const script = join(dir, file);
      mkdirSync(dirname(script), { recursive: true });
      writeFileSync(script, asRemoteScript(file, server.port));
      copySharedModules(file, dirname(script));
      const remote = await runScript(script, { SAGE_TOKEN: server.token }, 60_000);
      expect(remote.code, remote.stderr).toBe(0);
      expect(remote.stdout).toBe(output);
    }, 90_000); // the LLM examples bundle the tokenizer: a few MB per job
  }
});
