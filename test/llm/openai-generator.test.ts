/** OpenAIGenerator in pipelines against the OpenAI-protocol test server: answers per record, and streamed deltas. */
import { afterEach, describe, expect, it } from "vitest";
import { LocalEnvironment, PipelineDefinitionError } from "../../src/index.js";
import { isGenerationDelta, LLMService, OpenAIGenerator, QAPromptor, type GenerationDelta } from "../../src/llm/index.js";
import { startOpenAIServer, until, type OpenAIServer } from "../support/openai-server.js";

let server: OpenAIServer | undefined;

afterEach(async () => {
  if (server) await until(() => server!.sockets.open === 0, "the service's connections closed");
  await server?.close();
  server = undefined;
});

/** The input record a generator's output belongs to: a delta's `of`, the final record's `id`. */
const ownerOf = (record: unknown): unknown => (isGenerationDelta(record) ? record.of : (record as { id?: unknown }).id);

function llmEnv(name: string): LocalEnvironment {
  const env = new LocalEnvironment(name, { logLevel: "warn" });
  env.registerService("llm", LLMService, { args: [{ baseURL: server!.url, apiKey: "k", model: "gen-model" }] });
  return env;
}

describe("OpenAIGenerator", () => {
  it("answers each record as a map: strings, messages and objects, keeping the object's fields", async () => {
    server = await startOpenAIServer();
    const out: any[] = [];
    const env = llmEnv("generator_map");
    env
      .fromBatch<unknown>(["hello", [{ role: "user", content: "as messages" }], { id: 7, prompt: "from a field", gold: "x" }])
      .map(OpenAIGenerator, { args: [{ maxTokens: 20 }], concurrency: 4 })
      .sink((r) => void out.push(r));
    await env.submit({ autostop: true });
    await env.close();
    expect(out.map((r) => r.generated)).toEqual(["echo: hello", "echo: as messages", "echo: from a field"]);
    expect(out[0].input).toBe("hello");
    expect(out[2]).toMatchObject({ id: 7, prompt: "from a field", gold: "x" });
    for (const r of out) {
      expect(r.usage.promptTokens).toBeGreaterThan(0);
      expect(r.usage.completionTokens).toBeGreaterThan(0);
      expect(r.generationMs).toBeGreaterThanOrEqual(0);
    }
    expect(server.requests.map((r) => (r.body as { max_tokens?: number }).max_tokens)).toEqual([20, 20, 20]);
  });

  it("reads the messages a QAPromptor put in a field and writes the answer where asked", async () => {
    server = await startOpenAIServer({ answer: (request) => `${request.messages.length} messages` });
    const out: any[] = [];
    const env = llmEnv("generator_rag");
    env
      .fromBatch([{ id: "q1", query: "why?", passages: [{ text: "because" }], references: ["because"] }])
      .map(QAPromptor, { args: [{ output: "messages" }] })
      .map(OpenAIGenerator, { args: [{ output: "answer" }] })
      .sink((r) => void out.push(r));
    await env.submit({ autostop: true });
    await env.close();
    expect(out).toEqual([expect.objectContaining({ id: "q1", references: ["because"], answer: "2 messages" })]);
    expect(out[0].messages[0].content).toContain("[1] because");
  });

  it("streams: as a flatMap it emits the text deltas as they are generated, then the final record", async () => {
    const answer = "one two three four five six";
    server = await startOpenAIServer({ answer: () => answer, chunkDelayMs: 25 });
    const seen: Array<{ record: GenerationDelta | { generated: string; id: string }; at: number }> = [];
    const env = llmEnv("generator_stream");
    env
      .fromBatch([{ id: "a", prompt: "p" }, { id: "b", prompt: "q" }])
      .flatMap(OpenAIGenerator, { args: [{ stream: true }] })
      .sink((record: any) => void seen.push({ record, at: performance.timeOrigin + performance.now() })); // the server's clock
    await env.submit({ autostop: true });
    await env.close();
    for (const id of ["a", "b"]) {
      const mine = seen.filter((s) => ownerOf(s.record) === id);
      const deltas = mine.filter((s) => isGenerationDelta(s.record)).map((s) => s.record as GenerationDelta);
      const last = mine.at(-1)!.record as { generated: string };
      expect(isGenerationDelta(last)).toBe(false);
      expect(last.generated).toBe(answer);
      expect(deltas.map((d) => d.text).join("")).toBe(answer);
      expect(deltas.map((d) => d.index)).toEqual(deltas.map((_, i) => i));
    }
    // Input order is kept.
    expect(seen.findIndex((s) => ownerOf(s.record) === "b")).toBeGreaterThan(seen.findLastIndex((s) => ownerOf(s.record) === "a"));
    // A delta names its record in `of`, not `id`: it is not the record (nor a served request's answer).
    expect(seen.filter((s) => isGenerationDelta(s.record)).every((s) => !("id" in (s.record as object)))).toBe(true);
    // The first delta reached the sink while the answer was still being generated (six tokens 25 ms
    // apart): before the server finished sending it. Timing the gap to the final record (> 75 ms)
    // instead failed when a descheduled process got the first deltas late, all at once.
    const answerOfA = server.requests.find((r) => (r.body as { messages: Array<{ content: string }> }).messages.at(-1)!.content === "p")!;
    expect(isGenerationDelta(seen[0]!.record) && ownerOf(seen[0]!.record)).toBe("a");
    expect(seen[0]!.at).toBeLessThan(answerOfA.endedAt!);
  });

  it("refuses stream: true in a map, naming the fix", async () => {
    server = await startOpenAIServer();
    const env = llmEnv("generator_stream_in_map");
    env.fromBatch(["x"]).map(OpenAIGenerator, { args: [{ stream: true }] }).sink(() => {});
    await expect(env.submit({ autostop: true })).rejects.toThrow(/use it in flatMap\(OpenAIGenerator/);
    await env.close();
    expect(server.requests).toHaveLength(0);
  });

  it("fails a record without a prompt with a message naming what it needs", async () => {
    server = await startOpenAIServer();
    const env = llmEnv("generator_no_prompt");
    env.fromBatch([{ question: "no prompt field" }]).map(OpenAIGenerator).sink(() => {});
    await expect(env.submit({ autostop: true })).rejects.toThrow(/OpenAIGenerator needs a prompt or chat messages/);
    await env.close();
    expect(() => new LocalEnvironment("x").fromBatch([1]).filter(OpenAIGenerator as never)).toThrow(PipelineDefinitionError);
  });
});
