/** `sage/llm` is a subpath export of the package (needs `npm run build`, as the examples do). */
import { describe, expect, it } from "vitest";

describe("sage/llm", () => {
  it("is importable by its package name with the toolkit's helpers", async () => {
    const llm = await import("sage/llm");
    expect(typeof llm.chunkText).toBe("function");
    expect(new llm.HashingEmbedder({ dimensions: 8 }).embedOne("hello world")).toHaveLength(8);
    // The RAG building blocks: sources, sink, retrieval, reranking, evaluation.
    for (const name of ["JsonlSource", "TextFileSource", "JsonlSink", "EmbeddingMap", "VectorIndexer", "VectorRetriever", "LLMReranker", "F1Evaluate", "LatencyEvaluate", "ContextRecallEvaluate", "EvaluationReport"] as const) {
      expect(typeof llm[name], name).toBe("function");
    }
  });

  it("ships the LLM service and the OpenAI-protocol test server an example starts", async () => {
    const { LLMService, startOpenAIServer } = await import("sage/llm");
    const server = await startOpenAIServer();
    const service = new LLMService({ baseURL: server.url, model: "m" });
    try {
      expect((await service.chat("hi")).text).toBe("echo: hi");
    } finally {
      await service.cleanup();
      await server.close();
    }
  });
});
