import { describe, expect, it } from "vitest";
import { LocalEnvironment } from "../../src/index.js";
import { QAPromptor, type ChatMessage } from "../../src/llm/qa-promptor.js";

describe("QAPromptor in a pipeline", () => {
  it("runs as a map operator built from its options", async () => {
    const env = new LocalEnvironment("qa-prompts", { logLevel: "warn" });
    const out: ChatMessage[][] = [];
    env
      .fromBatch([{ question: "What is SAGE?", contexts: ["SAGE is a dataflow framework."] }])
      .map(QAPromptor, { args: [{ contextTokens: 100 }] })
      .sink((messages) => void out.push(messages as ChatMessage[]));
    await env.submit({ autostop: true });
    expect(out).toHaveLength(1);
    expect(out[0]![0]!.content).toContain("[1] SAGE is a dataflow framework.");
    expect(out[0]![1]).toEqual({ role: "user", content: "What is SAGE?" });
  });
});
