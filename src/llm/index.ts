/**
 * SAGE's LLM toolkit (`sage/llm`): building blocks for RAG and LLM batch pipelines.
 * @module
 */
export { chunkText, type ChunkOptions } from "./chunk-text.js";
export { HashingEmbedder, type HashingEmbedderOptions } from "./hashing-embedder.js";
export { VectorStore, type VectorEntry, type VectorMatch, type VectorStoreOptions, type SearchOptions } from "./vector-store.js";
export { exactMatch, f1Score, recallScore, rougeL, tokenCount } from "./metrics.js";
export { QAPromptor, type ChatMessage, type QAInput, type QAPromptorOptions } from "./qa-promptor.js";
