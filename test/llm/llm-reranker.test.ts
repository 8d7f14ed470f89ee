import { afterEach, describe, expect, it, vi } from "vitest";
import { BaseService, LocalEnvironment } from "../../src/index.js";
import { LLMReranker } from "../../src/llm/llm-reranker.js";
import { parseRanking } from "../../src/llm/rerank-answer.js";

afterEach(() => vi.restoreAllMocks());

interface ChatCall {
  prompt: string;
  options: Record<string, unknown>;
}

/**
 * A stand-in for the LLM service: answers from a script keyed by a word of the query, and keeps
 * what it was asked (module state: the service runs in this process).
 */
const calls: ChatCall[] = [];
class FakeChatService extends BaseService {
  chat(prompt: string, options: Record<string, unknown>): { text: string; usage: { promptTokens: number; completionTokens: number } } {
    calls.push({ prompt, options });
    const script: Record<string, string> = { ordered: "3, 1", scored: "Passage [2] is best, then [4]; 1: 0.25", nonsense: "I cannot rank these.", outOfRange: "9, 12" };
    const key = Object.keys(script).find((word) => prompt.includes(`Query: ${word}`));
    return { text: key ? script[key]! : "", usage: { promptTokens: 1, completionTokens: 1 } };
  }
}

const passages = [
  { id: "a", text: "alpha", score: 0.9, metadata: {} },
  { id: "b", text: "beta", score: 0.8, metadata: {} },
  { id: "c", text: "gamma ".repeat(400).trim(), score: 0.7, metadata: {} },
  { id: "d", text: "delta", score: 0.6, metadata: {} },
];

async function rerank(queries: string[], options: Record<string, unknown> = {}): Promise<string[][]> {
  const env = new LocalEnvironment("rerank", { logLevel: "warn" });
  env.registerService("llm", FakeChatService);
  const out: string[][] = [];
  env
    .fromBatch(queries.map((query) => ({ query, passages })))
    .map(LLMReranker, { args: [options] })
    .sink((r) => void out.push((r.passages as Array<{ id: string }>).map((p) => p.id)));
  await env.submit({ autostop: true });
  return out;
}

describe("LLMReranker", () => {
  it("orders passages as the model answers, the unnamed ones after in their order, and keeps the top n", async () => {
    calls.length = 0;
    expect(await rerank(["ordered", "scored"], { topN: 3 })).toEqual([
      ["c", "a", "b"],
      ["b", "d", "a"],
    ]);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.options).toEqual({ maxTokens: 50, temperature: 0 });
    expect(calls[0]!.prompt).toContain("Query: ordered\n\nPassages:\n[1] alpha\n[2] beta\n[3] gamma");
    expect(calls[0]!.prompt).toContain("\n[4] delta");
    // A long passage is cut to passageTokens (300) in the prompt.
    expect(calls[0]!.prompt).toContain(`[3] ${"gamma ".repeat(300).trim()}...\n`);
  });

  it("keeps the original order when the answer names no passage, and counts it", async () => {
    const logged: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
    expect(await rerank(["nonsense", "outOfRange", "ordered"], { topN: 2 })).toEqual([
      ["a", "b"],
      ["a", "b"],
      ["c", "a"],
    ]);
    expect(logged.filter((l) => l.includes("the original order is kept"))).toHaveLength(1); // warned once
    expect(logged.some((l) => l.includes("LLMReranker_0: the model's ranking names no passage (\"I cannot rank these.\")"))).toBe(true);
  });

  it("does not ask the model about fewer than two passages, and refuses records without query or passages", async () => {
    calls.length = 0;
    const reranker = new LLMReranker();
    expect(await reranker.execute({ query: "q", passages: [passages[0]] })).toEqual({ query: "q", passages: [passages[0]] });
    expect(calls).toHaveLength(0);
    await expect(reranker.execute({ passages })).rejects.toThrow("LLMReranker: a record has no query text in 'query'");
    await expect(reranker.execute({ query: "q" })).rejects.toThrow("LLMReranker: a record has no list of passages in 'passages'");
    expect(() => new LLMReranker({ topN: 0 })).toThrow("topN must be a whole number of at least 1, not 0");
  });
});

describe("parseRanking", () => {
  it.each([
    ["3, 1, 2", 3, [2, 0, 1]],
    ["3,1,2", 3, [2, 0, 1]],
    ["[2] > [1]", 3, [1, 0, 2]],
    ["Passage 2, then passage 2 again, then 1.", 3, [1, 0, 2]],
    ["1: 0.9, 2: 0.35, 3: 0.7", 3, [0, 1, 2]],
    ["10, 2", 3, [1, 0, 2]],
    ["none of them", 3, undefined],
    ["0", 3, undefined],
    ["1. [3]\n2. [1]\n3. [2]", 3, [2, 0, 1]],
    ["1. Passage 3\n2) Passage 1\n3. Passage 2", 3, [2, 0, 1]],
    ["3.\n1.\n2.", 3, [2, 0, 1]],
  ])("%s (of %i passages) -> %j", (answer, count, expected) => {
    expect(parseRanking(answer, count)).toEqual(expected);
  });
});
