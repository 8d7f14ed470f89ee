/** The index of the RAG examples: the corpus chunked, embedded and kept in a VectorStore file. */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BaseEnvironment } from "sage";
import { chunkText, EmbeddingMap, HashingEmbedder, VectorIndexer, VectorStore } from "sage/llm";
import { DOCUMENTS, type Document } from "./corpus.js";

/**
 * The file the index lives in. Re-runs reuse it (chunks are added by id, so indexing again
 * replaces them); in remote mode the jobs run on the JobManager's machine, so it lives there.
 */
export const INDEX = join(tmpdir(), "sage-examples", "rag.index.sqlite");

/** The embedder of documents and questions alike: offline and deterministic. */
export const embedder = new HashingEmbedder({ dimensions: 512 });

/** The chunks of a document, as vector-store entries to be (overlapping, so sentences cut at one edge are whole in the next). */
function chunksOf(doc: Document) {
  return chunkText(doc.text, { size: 320, overlap: 160 }).map((text, i) => ({ id: `${doc.id}#${i}`, text, metadata: { source: doc.id, title: doc.title } }));
}

/** Runs the indexing job on `env`: documents -> chunks -> vectors -> the store at INDEX. */
export async function buildIndex(env: BaseEnvironment): Promise<void> {
  env.registerService("vectors", VectorStore, { args: [{ path: INDEX }] });
  env
    .fromBatch(DOCUMENTS, { name: "Documents" })
    .flatMap(chunksOf, { name: "Chunk" })
    .map(EmbeddingMap, { args: [{ embedder }] })
    .sink(VectorIndexer);
  await env.submit({ autostop: true });
  console.log(`indexed ${DOCUMENTS.length} documents`);
}
