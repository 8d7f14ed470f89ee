/**
 * Retrieval-augmented question answering, end to end, in two jobs:
 *   1. index: chunk each document of a small corpus, embed the chunks (HashingEmbedder: offline,
 *      deterministic), add them to a VectorStore persisted in a SQLite file;
 *   2. ask: for each question retrieve the best chunks, build the prompt (QAPromptor), generate
 *      the answer (OpenAIGenerator over the LLM service) and score it (F1, context recall),
 *      with the scores summarised over the run by an EvaluationReport service.
 * Offline by default (a local OpenAI-protocol server answers from the prompt's context); set
 * OPENAI_BASE_URL (and OPENAI_API_KEY, OPENAI_MODEL) to ask a real endpoint.
 */
import { LocalEnvironment } from "sage";
import { ContextRecallEvaluate, EvaluationReport, F1Evaluate, OpenAIGenerator, QAPromptor, VectorRetriever, VectorStore, type EvaluationSummary } from "sage/llm";
import { QUESTIONS } from "./rag/corpus.js";
import { buildIndex, embedder, INDEX } from "./rag/index.js";
import { registerLLM } from "./rag/llm.js";

interface Answered {
  id: string;
  query: string;
  generated: string;
  scores: { f1: number; contextRecall: number };
}

function printSummary(summary: EvaluationSummary): void {
  for (const [metric, s] of Object.entries(summary)) {
    console.log(s.count === 0 ? `${metric}: no question scored` : `${metric}: mean ${s.mean.toFixed(3)} over ${s.count} questions`);
  }
}

// 1. Index the corpus.
await buildIndex(new LocalEnvironment("rag_index", { logLevel: "warn" }));

// 2. Answer the questions from the index.
const qa = new LocalEnvironment("rag_qa", { logLevel: "warn" });
qa.registerService("vectors", VectorStore, { args: [{ path: INDEX }] });
registerLLM(qa);
qa.registerService("evaluation", EvaluationReport, { args: [{ onReport: printSummary }] });
qa
  .fromBatch(QUESTIONS.map((q) => ({ id: q.id, query: q.question, references: q.answers })), { name: "Questions" })
  .map(VectorRetriever, { args: [{ embedder, topK: 3 }] })
  .map(QAPromptor, { args: [{ output: "messages", contextTokens: 400 }] })
  .map(OpenAIGenerator, { args: [{ maxTokens: 80, temperature: 0 }], concurrency: 4 })
  .map(F1Evaluate, { args: [{ report: "evaluation" }] })
  .map(ContextRecallEvaluate, { args: [{ report: "evaluation" }] })
  .sink((record) => {
    const r = record as unknown as Answered; // the toolkit's operators add fields the types do not track
    console.log(`${r.id}: ${r.query}`);
    console.log(`    ${r.generated} (f1 ${r.scores.f1.toFixed(2)}, context recall ${r.scores.contextRecall.toFixed(2)})`);
  });
await qa.submit({ autostop: true });
console.log("RAG QA example finished");
