/**
 * SAGE's LLM toolkit (`sage/llm`): building blocks for RAG and LLM batch pipelines.
 * @module
 */
export { chunkText, type ChunkOptions } from "./chunk-text.js";
export { HashingEmbedder, type HashingEmbedderOptions } from "./hashing-embedder.js";
export { VectorStore, type VectorEntry, type VectorMatch, type VectorStoreOptions, type SearchOptions } from "./vector-store.js";
export type { AnnOptions } from "./ann-index.js";
export { exactMatch, f1Score, recallScore, rougeL, tokenCount, normalizedWords } from "./metrics.js";
export { QAPromptor, type ChatMessage, type QAInput, type QAPromptorOptions } from "./qa-promptor.js";

// Sources and sinks
export { JsonlSource, type JsonlSourceOptions } from "./jsonl-source.js";
export { TextFileSource, type TextFileSourceOptions, type TextLine, type TextFile } from "./text-file-source.js";
export { JsonlSink, type JsonlSinkOptions } from "./jsonl-sink.js";

// Retrieval
export type { Embedder, EmbedderOptions } from "./embedder.js";
export { EmbeddingMap, type EmbeddingMapOptions } from "./embedding-map.js";
export { VectorIndexer, type VectorIndexerOptions } from "./vector-indexer.js";
export { VectorRetriever, type VectorRetrieverOptions, type Passage } from "./vector-retriever.js";
export { LLMReranker, type LLMRerankerOptions } from "./llm-reranker.js";
export { parseRanking } from "./rerank-answer.js";

// Evaluation
export { Evaluate, type EvaluateOptions, type Scored } from "./evaluate.js";
export { ExactMatchEvaluate, F1Evaluate, RecallEvaluate, RougeLEvaluate } from "./answer-evaluators.js";
export { TokenCountEvaluate } from "./token-count-evaluate.js";
export { LatencyEvaluate, markTime, wallClockMs, type LatencyEvaluateOptions } from "./latency-evaluate.js";
export { ContextRecallEvaluate, type ContextRecallEvaluateOptions } from "./context-recall-evaluate.js";
export { EvaluationReport, type EvaluationReportOptions, type EvaluationSummary } from "./evaluation-report.js";
export type { MetricSummary, ScorePartial } from "./score-aggregate.js";

// The LLM service, and the OpenAI-protocol server that tests and offline examples start
export { LLMService, type LLMCounters } from "./llm-service.js";
export type { CallOptions, ChatInput, ChatInputMessage, ChatOptions, ChatResult, ChatStreamEvent, EmbedOptions, LLMServiceOptions, Usage } from "./llm-types.js";
export { countChatTokens } from "./chat-tokens.js";
export { startOpenAIServer, type Fault, type OpenAIServer, type OpenAIServerOptions, type RecordedRequest, type SocketCounts } from "./testing/openai-server.js";
export { echoAnswer, type AnswerFunction } from "./testing/openai-answers.js";
export { extractiveAnswer } from "./testing/extractive-answer.js";

// Generation
export { OpenAIGenerator, isGenerationDelta, type OpenAIGeneratorOptions, type Generated, type GenerationDelta } from "./openai-generator.js";
