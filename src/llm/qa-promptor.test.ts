import { describe, expect, it } from "vitest";
import { encode } from "gpt-tokenizer";
import { QAPromptor, type ChatMessage } from "./qa-promptor.js";

const promptOf = (promptor: QAPromptor, input: Parameters<QAPromptor["execute"]>[0]) => promptor.execute(input) as ChatMessage[];

describe("QAPromptor", () => {
  it("puts the numbered passages in the system prompt and the question in the user message", () => {
    const messages = promptOf(new QAPromptor(), { question: "Where do cats sleep?", contexts: ["Cats sleep on sofas.", { text: "Dogs walk." }] });
    expect(messages).toEqual([
      { role: "system", content: expect.stringContaining("Context:\n[1] Cats sleep on sofas.\n[2] Dogs walk.") },
      { role: "user", content: "Where do cats sleep?" },
    ]);
  });

  it("keeps the passages within the token budget, best first, cutting the first that does not fit", () => {
    const long = "word ".repeat(50).trim();
    const [system] = promptOf(new QAPromptor({ template: "{context}", contextTokens: 10 }), { question: "q", contexts: ["one two three", long, "never"] });
    const kept = system!.content.split("\n");
    expect(kept[0]).toBe("[1] one two three");
    expect(kept).toHaveLength(2);
    expect(encode(kept[1]!.slice(4)).length).toBe(10 - encode("one two three").length);
  });

  it("fills {question} in a template too, and refuses input of another shape", () => {
    const [system] = promptOf(new QAPromptor({ template: "Q: {question} C: {context}" }), { question: "why?", contexts: [] });
    expect(system!.content).toBe("Q: why? C: ");
    expect(() => new QAPromptor().execute({ question: 1 } as never)).toThrow("QAPromptor takes { question (or query): string, contexts (or passages): (string | { text })[] }");
  });

  it("keeps the record when asked, reading a retriever's query and passages", () => {
    const record = { id: "q1", query: "why?", passages: [{ id: "p", text: "because", score: 0.9 }], references: ["because"] };
    const kept = new QAPromptor({ output: "messages" }).execute(record) as Record<string, unknown>;
    expect(kept).toMatchObject({ id: "q1", references: ["because"], passages: record.passages });
    expect(kept.messages).toEqual([
      { role: "system", content: expect.stringContaining("[1] because") },
      { role: "user", content: "why?" },
    ]);
    const named = new QAPromptor({ question: "ask", contexts: "docs" }).execute({ ask: "how?", docs: ["so"] }) as ChatMessage[];
    expect(named[1]).toEqual({ role: "user", content: "how?" });
    expect(() => new QAPromptor({ question: "ask" }).execute({ question: "not read", contexts: [] })).toThrow("QAPromptor takes { ask: string");
  });
});
