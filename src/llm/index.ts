/**
 * SAGE's LLM toolkit (`sage/llm`): building blocks for RAG and LLM batch pipelines.
 * @module
 */
export { chunkText, type ChunkOptions } from "./chunk-text.js";
export { HashingEmbedder, type HashingEmbedderOptions } from "./hashing-embedder.js";
export { VectorStore, type VectorEntry, type VectorMatch, type VectorStoreOptions, type SearchOptions } from "./vector-store.js";
export { exactMatch, f1Score, recallScore, rougeL, tokenCount } from "./metrics.js";
export { QAPromptor, type ChatMessage, type QAInput, type QAPromptorOptions } from "./qa-promptor.js";
export { LLMService, type LLMCounters } from "./llm-service.js";
export type { CallOptions, ChatInput, ChatInputMessage, ChatOptions, ChatResult, ChatStreamEvent, EmbedOptions, LLMServiceOptions, Usage } from "./llm-types.js";
export { countChatTokens } from "./chat-tokens.js";
export { startOpenAIServer, type Fault, type OpenAIServer, type OpenAIServerOptions, type RecordedRequest, type SocketCounts } from "./testing/openai-server.js";
export { echoAnswer, type AnswerFunction } from "./testing/openai-answers.js";
