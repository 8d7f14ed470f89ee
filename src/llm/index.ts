/**
 * SAGE's LLM toolkit (`sage/llm`): building blocks for RAG and LLM batch pipelines.
 * @module
 */
export { chunkText, type ChunkOptions } from "./chunk-text.js";
export { HashingEmbedder, type HashingEmbedderOptions } from "./hashing-embedder.js";
