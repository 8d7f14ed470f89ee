import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import { textOf } from "../chat-tokens.js";
import { normalizedWords } from "../metrics.js";

// Words that carry no meaning of their own, so that overlap counts the content words.
const STOP_WORDS = new Set(
  "is are was were be been do does did what which who whom when where why how in on at of to for by with from and or not it its this that these those as after before about into than then so may can".split(" "),
);

/**
 * An offline stand-in for a model answering a RAG prompt: it answers with the sentence of the
 * system prompt's context that shares the most content words with the question (on a tie the
 * longest, since chunk overlaps repeat sentences cut short, then the earliest), or "I do not
 * know" when none shares any. Deterministic, so examples and tests can check
 * exact answers and scores with no model.
 */
export function extractiveAnswer(request: ChatCompletionCreateParams): string {
  const question = textOf(request.messages.filter((m) => m.role === "user").at(-1)?.content);
  const context = request.messages
    .filter((m) => m.role === "system")
    .map((m) => textOf(m.content))
    .join("\n");
  const wanted = new Set(normalizedWords(question).filter((w) => !STOP_WORDS.has(w)));
  let best = "";
  let bestScore = 0;
  for (const sentence of sentencesOf(context)) {
    const score = new Set(normalizedWords(sentence).filter((w) => wanted.has(w))).size;
    if (score > bestScore || (score === bestScore && score > 0 && sentence.length > best.length)) [best, bestScore] = [sentence, score];
  }
  return bestScore > 0 ? best : "I do not know.";
}

// Sentences of the numbered passages ("[1] ..."), without the markers and the prompt's own lines.
function sentencesOf(context: string): string[] {
  const passages = context.split("\n").filter((line) => /^\[\d+\] /.test(line)).map((line) => line.replace(/^\[\d+\] /, ""));
  return passages.flatMap((p) => p.split(/(?<=[.!?])\s+/)).map((s) => s.trim()).filter((s) => s !== "");
}
