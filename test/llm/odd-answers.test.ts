/**
 * LLMService against servers that answer oddly, and inputs that once broke it: each case here
 * once hung the service, stalled the thread or returned a wrong result without an error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chunkText, LLMService, QAPromptor } from "../../src/llm/index.js";
import { countTokens, encode } from "gpt-tokenizer";
import { countTextTokens, decodesByBytes, decodeTokens, encodeText } from "../../src/llm/text-tokens.js";
import { LineReader } from "../../src/llm/line-reader.js";

type Answer = (request: IncomingMessage & { body: Record<string, unknown> }, response: ServerResponse, call: number) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A loopback server answering each request with `answer`; the service's base URL. */
async function serve(answer: Answer): Promise<string> {
  let calls = 0;
  const server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk) => (text += chunk));
    request.on("end", () => answer(Object.assign(request, { body: JSON.parse(text || "{}") as Record<string, unknown> }), response, ++calls));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
}

/** Runs `use` with an LLMService of model "m" on a server answering with `answer`, then cleans it up. */
async function withService(answer: Answer, options: Omit<ConstructorParameters<typeof LLMService>[0], "baseURL">, use: (llm: LLMService) => Promise<void>): Promise<void> {
  const llm = new LLMService({ baseURL: await serve(answer), ...options });
  try {
    await use(llm);
  } finally {
    await llm.cleanup();
  }
}

const json = (response: ServerResponse, body: unknown) => {
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
};

describe("LLMService - odd answers", () => {
  it("an answer whose usage lacks a count no longer stops every later call under tokensPerMinute (the limiter's schedule became NaN)", async () => {
    const odd: Answer = (_request, response, call) =>
      json(response, { model: "m", choices: [{ message: { content: "hi" }, finish_reason: "stop" }], usage: call === 1 ? { prompt_tokens: 12 } : { prompt_tokens: 12, completion_tokens: "a" } });
    await withService(odd, { model: "m", tokensPerMinute: 1_000_000, timeoutMs: 2000 }, async (llm) => {
      const first = await llm.chat("x");
      expect(first.usage).toEqual({ promptTokens: 12, completionTokens: 1 }); // counted here where the answer has none
      const second = await llm.chat("y", { signal: AbortSignal.timeout(3000) });
      expect(Number.isInteger(second.usage.completionTokens)).toBe(true);
      expect(Number.isFinite(llm.metrics().completionTokens)).toBe(true);
    });
  });

  it("refuses a maxTokens that is not a positive whole number, naming it (NaN hung every later call)", async () => {
    await withService((_request, response) => json(response, { choices: [{ message: { content: "hi" } }] }), { model: "m", tokensPerMinute: 1_000_000 }, async (llm) => {
      for (const maxTokens of [Number.NaN, -1, 1.5]) await expect(llm.chat("x", { maxTokens })).rejects.toThrow(`chat option maxTokens must be a positive whole number, got ${maxTokens}`);
      expect((await llm.chat("x", { maxTokens: 5, signal: AbortSignal.timeout(3000) })).text).toBe("hi");
    });
  });

  it.each<[string, unknown, RegExp]>([
    ["no choices", {}, /the chat completion answer has no choices: \{\}/],
    ["choices not a list", { choices: "nope" }, /has no choices/],
    ["a list instead of an object", [1, 2, 3], /has no choices: \[1,2,3\]/],
    ["content that is not text", { choices: [{ message: { content: 42 } }] }, /content is not text: 42/],
  ])("fails a chat answer with %s, instead of answering ''", async (_name, body, message) => {
    await withService((_request, response) => json(response, body), { model: "m", maxRetries: 0 }, async (llm) => {
      await expect(llm.chat("x")).rejects.toThrow(message);
    });
  });

  it("fails a streamed chat the server answered with one JSON object (it gave an empty answer)", async () => {
    await withService((_request, response) => json(response, { choices: [{ message: { content: "hi" } }] }), { model: "m", maxRetries: 0 }, async (llm) => {
      const reading = (async () => {
        for await (const _event of await llm.chatStream("x")) void _event;
      })();
      await expect(reading).rejects.toThrow(/answered a streamed request with 'application\/json', not an event stream/);
    });
  });

  it.each<[string, (input: string[]) => unknown, RegExp]>([
    ["an extra vector", (input) => input.map((_, i) => ({ index: i, embedding: [i] })).concat([{ index: 0, embedding: [9] }]), /has 3 vectors for 2 inputs/],
    ["1-based indexes", (input) => input.map((_, i) => ({ index: i + 1, embedding: [i] })), /has a vector at index 2 \(inputs 0-1, each once\)/],
    ["a null in a vector", (input) => input.map((_, i) => ({ index: i, embedding: [null] })), /vector for input 0 that is not a list of finite numbers/],
    ["vectors of two lengths", (input) => input.map((_, i) => ({ index: i, embedding: i === 0 ? [1, 2] : [1] })), /different lengths \(2 and 1\)/],
  ])("fails an embeddings answer with %s, instead of shifting the later vectors", async (_name, data, message) => {
    await withService((request, response) => json(response, { data: data(request.body.input as string[]) }), { model: "m", embeddingModel: "e", embeddingBatchSize: 2, maxRetries: 0 }, async (llm) => {
      await expect(llm.embed(["a", "b", "c", "d"])).rejects.toThrow(message);
    });
  });
});

describe("the toolkit's text handling", () => {
  it("counts a long run of one character in linear time (an answer of 100 KB of '-' without usage blocked the thread for seconds)", async () => {
    await withService((_request, response) => json(response, { choices: [{ message: { content: "-".repeat(100_000) } }] }), { model: "m" }, async (llm) => {
      const started = Date.now();
      const { usage } = await llm.chat("x");
      expect(Date.now() - started).toBeLessThan(2000);
      expect(usage.completionTokens).toBeGreaterThan(1000);
    });
    // An ordinary long text, cut before spaces, counts exactly as the tokenizer counts it whole.
    const prose = "The quick brown fox jumps over the lazy dog. ".repeat(200);
    expect(countTextTokens(prose)).toBe(countTokens(prose));
  });

  it("chunks by tokens and cuts a prompt's passages to a token budget in linear time (a 100 KB rule of '-' stalled both for seconds)", () => {
    const document = `Intro text.\n${"-".repeat(100_000)}\nMore text after the rule.`;
    const started = Date.now();
    const chunks = chunkText(document, { by: "tokens", size: 256 });
    expect(chunks.join("")).toBe(document);
    const messages = new QAPromptor({ contextTokens: 500 }).execute({ question: "q", contexts: [document] });
    expect(JSON.stringify(messages)).toContain("Intro text.");
    expect(Date.now() - started).toBeLessThan(2000);
    // Ordinary text keeps exactly the tokens the tokenizer gives it whole.
    const prose = "The quick brown fox jumps over the lazy dog. ".repeat(200);
    expect(encodeText(prose)).toEqual(encode(prose));
  });

  it("cuts token chunks and token budgets between characters: no U+FFFD, and none left behind for a later decode", () => {
    // gpt-tokenizer's own decode keeps an unfinished character's bytes for its next call: SAGE decodes tokens itself.
    expect(decodesByBytes).toBe(true);
    const text = "family 👨‍👩‍👧‍👦 and flags 🇫🇷🇯🇵 ".repeat(30) + "日本語のテキストです。".repeat(50);
    for (const [size, overlap] of [[5, 0], [5, 2], [16, 4], [64, 8]] as const) {
      const chunks = chunkText(text, { by: "tokens", size, overlap });
      expect(chunks.filter((chunk) => chunk.includes("\uFFFD")), `size ${size}, overlap ${overlap}`).toEqual([]);
      expect(chunks.every((chunk) => encodeText(chunk).length <= size + 1)).toBe(true);
      if (overlap === 0) expect(chunks.join("")).toBe(text);
    }
    const messages = new QAPromptor({ contextTokens: 3 }).execute({ question: "q", contexts: ["👨‍👩‍👧‍👦"] });
    expect(JSON.stringify(messages)).not.toContain("\\ufffd");
    expect(JSON.stringify(messages)).not.toContain("\uFFFD");
    expect(decodeTokens(encodeText("family "))).toBe("family ");
  });

  it("QAPromptor keeps a passage's '$' patterns and placeholders as written (replaceAll read them as patterns)", () => {
    const promptor = new QAPromptor();
    const messages = promptor.execute({ question: "what is the PID?", contexts: ["In bash, `echo $$` prints the PID; $& and $' too.", "Write {question} to show it."] });
    const system = JSON.stringify(messages);
    expect(system).toContain("`echo $$` prints the PID; $& and $' too.");
    expect(system).toContain("Write {question} to show it.");
  });

  it("reads a file that starts with a byte-order mark without it (JSON Lines failed on line 1)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sage-bom-"));
    try {
      const file = join(dir, "q.jsonl");
      writeFileSync(file, '\uFEFF{"query":"a"}\n{"query":"b"}\n');
      const reader = new LineReader(file);
      expect(await reader.next()).toBe('{"query":"a"}');
      expect(await reader.next()).toBe('{"query":"b"}');
      await reader.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
