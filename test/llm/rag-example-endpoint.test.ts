/** examples/rag_qa.ts against an endpoint given by OPENAI_BASE_URL (here the test server, standing in for a real one). */
import { afterEach, describe, expect, it } from "vitest";
import { runNode } from "../support/cluster.js";
import { startOpenAIServer, type OpenAIServer } from "../support/openai-server.js";

let server: OpenAIServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("examples/rag_qa.ts with OPENAI_BASE_URL set", () => {
  it("asks that endpoint, with the key and model given, and starts no model of its own", async () => {
    server = await startOpenAIServer({ apiKey: "sk-test", answer: () => "from the endpoint" });
    const run = await runNode(["--import", "tsx", "examples/rag_qa.ts"], { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "sk-test", OPENAI_MODEL: "endpoint-model", NO_COLOR: "1" }, 25_000);
    expect(run.code, run.stderr).toBe(0);
    const chats = server.requests.filter((r) => r.path.endsWith("/chat/completions"));
    expect(chats).toHaveLength(8);
    expect(chats.every((r) => (r.body as { model?: string }).model === "endpoint-model")).toBe(true);
    expect(run.stdout.match(/ {4}from the endpoint \(f1 /g)).toHaveLength(8);
    expect(run.stdout).toContain("RAG QA example finished");
  });
});
