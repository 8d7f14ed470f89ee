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
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalEnvironment } from "sage";
import {
  chunkText,
  ContextRecallEvaluate,
  EmbeddingMap,
  EvaluationReport,
  F1Evaluate,
  HashingEmbedder,
  OpenAIGenerator,
  QAPromptor,
  VectorIndexer,
  VectorRetriever,
  VectorStore,
  type EvaluationSummary,
} from "sage/llm";
import { DOCUMENTS, QUESTIONS, type Document } from "./rag/corpus.js";
import { registerLLM } from "./rag/llm.js";

// A file both jobs open (and every re-run reuses: chunks are added by id, so indexing again
// replaces them); in remote mode the jobs run on the JobManager's machine, so it lives there.
const INDEX = join(tmpdir(), "sage-examples", "rag_qa.index.sqlite");
const embedder = new HashingEmbedder({ dimensions: 512 });

interface Answered {
  id: string;
  query: string;
  generated: string;
  scores: { f1: number; contextRecall: number };
}

/** The chunks of a document, as vector-store entries to be. */
function chunksOf(doc: Document) {
  return chunkText(doc.text, { size: 320, overlap: 160 }).map((text, i) => ({ id: `${doc.id}#${i}`, text, metadata: { source: doc.id, title: doc.title } }));
}

function printSummary(summary: EvaluationSummary): void {
  for (const [metric, s] of Object.entries(summary)) console.log(`${metric}: mean ${s.mean.toFixed(3)} over ${s.count} questions`);
}

// 1. Index the corpus.
const indexing = new LocalEnvironment("rag_index", { logLevel: "warn" });
indexing.registerService("vectors", VectorStore, { args: [{ path: INDEX }] });
indexing
  .fromBatch(DOCUMENTS, { name: "Documents" })
  .flatMap(chunksOf, { name: "Chunk" })
  .map(EmbeddingMap, { args: [{ embedder }] })
  .sink(VectorIndexer);
await indexing.submit({ autostop: true });
console.log(`indexed ${DOCUMENTS.length} documents`);

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
