import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BaseService, JobFailedError, LocalEnvironment } from "../../src/index.js";
import { chunkText } from "../../src/llm/chunk-text.js";
import { EmbeddingMap } from "../../src/llm/embedding-map.js";
import { HashingEmbedder } from "../../src/llm/hashing-embedder.js";
import { QAPromptor, type ChatMessage, type QAInput } from "../../src/llm/qa-promptor.js";
import { VectorIndexer } from "../../src/llm/vector-indexer.js";
import { VectorRetriever, type Passage } from "../../src/llm/vector-retriever.js";
import { VectorStore } from "../../src/llm/vector-store.js";

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const corpus = [
  { id: "cats", source: "pets", text: "Cats sleep for most of the day. A cat likes a warm sofa in the sun." },
  { id: "dogs", source: "pets", text: "Dogs need long walks in the park every day. A dog fetches sticks." },
  { id: "rome", source: "travel", text: "Rome has the Colosseum and the Trevi fountain. Rome is the capital of Italy." },
  { id: "paris", source: "travel", text: "Paris has the Eiffel Tower. Paris is the capital of France." },
];

const embedder = new HashingEmbedder({ dimensions: 128 });

/** A stand-in for the LLM service: embeds with the hashing embedder and counts its calls. */
class FakeEmbeddingService extends BaseService {
  calls: number[] = [];
  embed(texts: string[]): number[][] {
    this.calls.push(texts.length);
    return embedder.embed(texts);
  }
  metrics(): Record<string, number> {
    return { embedCalls: this.calls.length, texts: this.calls.reduce((a, b) => a + b, 0) };
  }
}

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "sage-rag-"));
  dirs.push(dir);
  return join(dir, "vectors.db");
}

/** Job 1: chunk, embed and index the corpus into the store at `path`. */
async function index(path: string): Promise<void> {
  const env = new LocalEnvironment("index", { logLevel: "warn" });
  env.registerService("vectors", VectorStore, { args: [{ path }] });
  env
    .fromBatch(corpus)
    .flatMap((doc) => chunkText(doc.text, { size: 40 }).map((text, i) => ({ id: `${doc.id}#${i}`, text, source: doc.source })))
    .map(EmbeddingMap, { args: [{ embedder }] })
    .sink(VectorIndexer, { args: [{ metadata: ["source"], batchSize: 3 }] });
  await env.submit({ autostop: true });
}

describe("retrieval operators", () => {
  it("index chunks in one job and retrieve the best passages with their text, score and metadata in the next", async () => {
    const path = tempPath();
    await index(path);
    const env = new LocalEnvironment("retrieve", { logLevel: "warn" });
    env.registerService("vectors", VectorStore, { args: [{ path }] });
    const out: Array<{ query: string; passages: Passage[] }> = [];
    env
      .fromBatch(["where is the Eiffel Tower", { query: "which pet likes a warm sofa", wants: "pets" }])
      .map(VectorRetriever, { args: [{ embedder, topK: 3, filter: (r: Record<string, unknown>) => (r.wants ? { source: r.wants } : undefined) }] })
      .sink((r) => void out.push(r as never));
    await env.submit({ autostop: true });

    expect(out[0]!.query).toBe("where is the Eiffel Tower");
    expect(out[0]!.passages).toHaveLength(3);
    expect(out[0]!.passages[0]).toEqual({ id: "paris#0", text: "Paris has the Eiffel Tower. Paris is the", score: expect.any(Number), metadata: { source: "travel" } });
    expect(out[0]!.passages.map((p) => p.score)).toEqual([...out[0]!.passages.map((p) => p.score)].sort((a, b) => b - a));
    expect(out[1]!.passages[0]!.id).toBe("cats#1");
    expect(out[1]!.passages.every((p) => p.metadata.source === "pets")).toBe(true);
    expect(out[1]).toMatchObject({ wants: "pets" }); // the record's own fields stay
  });

  it("embed through the llm service with one call per record, a list of texts getting a list of vectors", async () => {
    const env = new LocalEnvironment("embed-service", { logLevel: "warn" });
    env.registerService("llm", FakeEmbeddingService);
    const out: Array<Record<string, unknown>> = [];
    env
      .fromBatch([{ id: "doc", text: ["first chunk", "second chunk", "third"] }, "a single text"])
      .map(EmbeddingMap)
      .map(async (record, ctx) => ({ ...record, stats: await ctx.service<FakeEmbeddingService>("llm").metrics() }))
      .sink((r) => void out.push(r));
    await env.submit({ autostop: true });
    expect(out[0]!.vector).toEqual(embedder.embed(["first chunk", "second chunk", "third"]));
    expect(out[1]).toMatchObject({ text: "a single text", vector: embedder.embedOne("a single text") });
    expect(out[1]!.stats).toEqual({ embedCalls: 2, texts: 4 });
  });

  it("index a record with a list of vectors as one entry per chunk, and refuse records without id or vector", async () => {
    const env = new LocalEnvironment("index-chunks", { logLevel: "warn" });
    env.registerService("vectors", VectorStore);
    const found: unknown[] = [];
    env
      .fromBatch([{ id: "doc", text: ["red apples", "green pears"], metadata: { lang: "en" } }])
      .map(EmbeddingMap, { args: [{ embedder }] })
      .sink(VectorIndexer);
    env
      .fromBatch([1])
      .map(async (_, ctx) => {
        // Polls until the other pipeline's indexer has flushed at its close().
        const vectors = ctx.service<VectorStore>("vectors");
        while ((await vectors.size()) < 2) await new Promise((resolve) => setTimeout(resolve, 5));
        return vectors.search(embedder.embedOne("green pears"), 2);
      })
      .sink((m) => void found.push(m));
    await env.submit({ autostop: true, timeoutMs: 10_000 });
    expect(found[0]).toEqual([
      { id: "doc#1", score: expect.closeTo(1, 10), text: "green pears", metadata: { lang: "en" } },
      { id: "doc#0", score: expect.any(Number), text: "red apples", metadata: { lang: "en" } },
    ]);

    const bad = new LocalEnvironment("index-bad", { logLevel: "silent" });
    bad.registerService("vectors", VectorStore);
    bad.fromBatch([{ text: "no id", vector: [1, 0] }]).sink(VectorIndexer);
    const failed = await bad.submit({ autostop: true }).catch((error: unknown) => error);
    expect((failed as JobFailedError).status.error?.message).toContain("VectorIndexer: a record has no id (a string or number) in 'id'");
  });

  it("fail clearly when the embedder answers the wrong number of vectors", async () => {
    const env = new LocalEnvironment("embed-bad", { logLevel: "silent" });
    env.fromBatch([{ text: ["a", "b"] }]).map(EmbeddingMap, { args: [{ embedder: { embed: () => [[1, 0]] } }] }).sink(() => {});
    const failed = await env.submit({ autostop: true }).catch((error: unknown) => error);
    expect((failed as JobFailedError).status.error?.message).toContain("EmbeddingMap: its embedder answered embed() of 2 texts with 1 answers, not 2 vectors");
  });

  it("fit QAPromptor's fields when asked to", async () => {
    const path = tempPath();
    await index(path);
    const env = new LocalEnvironment("rag-prompt", { logLevel: "warn" });
    env.registerService("vectors", VectorStore, { args: [{ path }] });
    const out: ChatMessage[][] = [];
    env
      .fromBatch([{ question: "what is the capital of Italy" }])
      .map(VectorRetriever, { args: [{ embedder, query: "question", output: "contexts", topK: 2 }] })
      .map((record) => record as unknown as QAInput) // the retriever's records are untyped
      .map(QAPromptor, { args: [{ contextTokens: 200 }] })
      .sink((m) => void out.push(m as ChatMessage[]));
    await env.submit({ autostop: true });
    expect(out[0]![0]!.content).toContain("Context:\n[1] fountain. Rome is the capital of Italy.\n[2] ");
    expect(out[0]![1]).toEqual({ role: "user", content: "what is the capital of Italy" });
  });
});
