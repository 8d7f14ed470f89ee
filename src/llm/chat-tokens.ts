import { countTextTokens } from "./text-tokens.js";

/** A chat message as the token counter reads it: a role and text (or text parts). */
export interface CountableMessage {
  role: string;
  content?: unknown;
  name?: string;
}

// OpenAI's accounting for chat models: 3 tokens wrap each message, 1 more when it has a name,
// and 3 prime the reply. Both the service's estimate and the test server use it, so the
// estimate of a text-only prompt matches the usage the test server reports exactly.
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;

/** Prompt tokens (o200k) of chat `messages` as OpenAI counts them for text content. */
export function countChatTokens(messages: ReadonlyArray<CountableMessage>): number {
  let tokens = REPLY_PRIMING;
  for (const message of messages) {
    tokens += PER_MESSAGE + countTextTokens(message.role) + countTextTokens(textOf(message.content));
    if (typeof message.name === "string") tokens += PER_NAME + countTextTokens(message.name);
  }
  return tokens;
}

/** The text of a message's content: a string, or the `text` of its parts (images and audio count nothing). */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text = "";
  for (const part of content) if (part !== null && typeof part === "object" && typeof (part as { text?: unknown }).text === "string") text += (part as { text: string }).text;
  return text;
}
