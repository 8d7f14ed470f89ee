/**
 * Every tutorial in examples/ prints the same under `sage run`, under `sage job submit`, and as a
 * script with LocalEnvironment swapped for RemoteEnvironment: remote mode behaves like a local run,
 * several pipelines per module included. Needs `npm run build` first (the examples import "sage").
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
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
    .replace(/new LocalEnvironment\(("[^"]*")\)/g, `new RemoteEnvironment($1, { port: ${port} })`);
  expect(swapped).not.toMatch(/LocalEnvironment/);
  return swapped;
}

/** Copies the modules an example in a folder shares with its siblings (those that are no example themselves). */
function copySharedModules(file: string, to: string): void {
  const folder = dirname(file);
  if (folder === ".") return;
  for (const name of readdirSync(join(repoRoot, "examples", folder))) {
    if (name.endsWith(".ts") && !(`${folder}/${name}` in expected)) copyFileSync(join(repoRoot, "examples", folder, name), join(to, name));
  }
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
      const remote = await runScript(script, { SAGE_TOKEN: server.token });
      expect(remote.code, remote.stderr).toBe(0);
      expect(remote.stdout).toBe(output);
    });
  }
});
