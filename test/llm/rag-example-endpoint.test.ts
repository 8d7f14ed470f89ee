/** examples/rag_qa.ts against an endpoint given by OPENAI_BASE_URL (here the test server, standing in for a real one). */
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startOpenAIServer, type OpenAIServer } from "../support/openai-server.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
let server: OpenAIServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function runExample(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: repoRoot, env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe("examples/rag_qa.ts with OPENAI_BASE_URL set", () => {
  it("asks that endpoint, with the key and model given, and starts no model of its own", async () => {
    server = await startOpenAIServer({ apiKey: "sk-test", answer: () => "from the endpoint" });
    const run = await runExample("examples/rag_qa.ts", { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "sk-test", OPENAI_MODEL: "endpoint-model" });
    expect(run.code, run.stderr).toBe(0);
    const chats = server.requests.filter((r) => r.path.endsWith("/chat/completions"));
    expect(chats).toHaveLength(8);
    expect(chats.every((r) => (r.body as { model?: string }).model === "endpoint-model")).toBe(true);
    expect(run.stdout.match(/ {4}from the endpoint \(f1 /g)).toHaveLength(8);
    expect(run.stdout).toContain("RAG QA example finished");
  });
});
