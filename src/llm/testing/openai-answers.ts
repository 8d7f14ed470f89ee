/** What the OpenAI-protocol test server answers: completions, stream chunks, embeddings and errors. */
import { countTokens, decode, encode } from "gpt-tokenizer";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import { countChatTokens, textOf } from "../chat-tokens.js";
import { HashingEmbedder } from "../hashing-embedder.js";

/** Builds the answer text of a chat request (before max_tokens and stop apply). */
export type AnswerFunction = (request: ChatCompletionCreateParams) => string;

/** The default answer: `echo: ` and the text of the last user message. */
export const echoAnswer: AnswerFunction = (request) => {
  const users = request.messages.filter((m) => m.role === "user");
  return `echo: ${textOf(users.at(-1)?.content)}`;
};

/** One completion as the server computes it before formatting. */
export interface Completion {
  text: string;
  finishReason: "stop" | "length";
  promptTokens: number;
  completionTokens: number;
}

/** Applies `stop` and the token limit to the answer and counts its tokens exactly. */
export function complete(request: ChatCompletionCreateParams, answer: AnswerFunction): Completion {
  let text = answer(request);
  let finishReason: Completion["finishReason"] = "stop";
  const stops = request.stop === undefined || request.stop === null ? [] : Array.isArray(request.stop) ? request.stop : [request.stop];
  for (const stop of stops) {
    const at = stop === "" ? -1 : text.indexOf(stop);
    if (at >= 0) text = text.slice(0, at);
  }
  let tokens = encode(text);
  const limit = request.max_completion_tokens ?? request.max_tokens;
  if (typeof limit === "number" && tokens.length > limit) {
    tokens = tokens.slice(0, limit);
    text = decode(tokens);
    finishReason = "length";
  }
  return { text, finishReason, promptTokens: countChatTokens(request.messages), completionTokens: tokens.length };
}

/** A `chat.completion` body. */
export function completionBody(id: string, model: string, completion: Completion): object {
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content: completion.text, refusal: null }, logprobs: null, finish_reason: completion.finishReason }],
    usage: usageOf(completion.promptTokens, completion.completionTokens),
  };
}

/** The `chat.completion.chunk` bodies of a streamed answer: role, one per token, finish, then usage when asked. */
export function chunkBodies(id: string, model: string, completion: Completion, includeUsage: boolean): object[] {
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: object, finishReason: string | null) => ({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
  const chunks: object[] = [chunk({ role: "assistant", content: "" }, null)];
  for (const piece of tokenPieces(completion.text)) chunks.push(chunk({ content: piece }, null));
  chunks.push(chunk({}, completion.finishReason));
  if (includeUsage) chunks.push({ id, object: "chat.completion.chunk", created, model, choices: [], usage: usageOf(completion.promptTokens, completion.completionTokens) });
  return chunks;
}

/** The text of each token in turn; a token that ends inside a multi-byte character joins the next. */
export function tokenPieces(text: string): string[] {
  const pieces: string[] = [];
  let pending: number[] = [];
  for (const token of encode(text)) {
    pending.push(token);
    const piece = decode(pending);
    if (piece.endsWith("\uFFFD")) continue;
    pieces.push(piece);
    pending = [];
  }
  if (pending.length > 0) pieces.push(decode(pending));
  return pieces;
}

/** An embeddings request as the server reads it. */
export interface EmbeddingsRequest {
  model?: string;
  input: string | string[];
  dimensions?: number;
  encoding_format?: "float" | "base64";
}

const embedders = new Map<number, HashingEmbedder>();

/** A `list` of embeddings: deterministic feature-hashing vectors, as floats or base64 float32. */
export function embeddingsBody(request: EmbeddingsRequest, model: string, defaultDimensions: number): object {
  const inputs = typeof request.input === "string" ? [request.input] : request.input;
  const dimensions = request.dimensions ?? defaultDimensions;
  let embedder = embedders.get(dimensions);
  if (!embedder) embedders.set(dimensions, (embedder = new HashingEmbedder({ dimensions })));
  let tokens = 0;
  const data = inputs.map((input, index) => {
    tokens += countTokens(input);
    const vector = embedder.embedOne(input);
    const embedding = request.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
    return { object: "embedding", index, embedding };
  });
  return { object: "list", data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

/** An OpenAI-style error body. */
export function errorBody(status: number, message?: string, code?: string | null): object {
  return { error: { message: message ?? defaultMessage(status), type: errorType(status), param: null, code: code ?? defaultCode(status) } };
}

function usageOf(prompt: number, completion: number): object {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function errorType(status: number): string {
  if (status === 429) return "requests";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

function defaultCode(status: number): string | null {
  if (status === 429) return "rate_limit_exceeded";
  if (status === 401) return "invalid_api_key";
  return null;
}

function defaultMessage(status: number): string {
  if (status === 429) return "Rate limit reached for requests. Please try again later.";
  if (status === 401) return "Incorrect API key provided.";
  if (status === 404) return "Not found.";
  if (status >= 500) return "The server had an error while processing your request.";
  return "Invalid request.";
}
