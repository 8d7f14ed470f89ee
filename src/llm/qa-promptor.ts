import { characterCut, decodeTokens, encodeText } from "./text-tokens.js";
import { MapFunction } from "../api/functions.js";
import { fieldOf } from "./record-fields.js";

/** A chat message as OpenAI-compatible endpoints take it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** What a QAPromptor reads: the question and the passages retrieved for it, best first. */
export interface QAInput {
  question: string;
  /** Passages as strings, or search matches with a `text`. */
  contexts: ReadonlyArray<string | { text?: string }>;
}

/** Options of a QAPromptor. */
export interface QAPromptorOptions {
  /** The system prompt; `{context}` is replaced by the passages (numbered), `{question}` by the question. */
  template?: string;
  /** How many tokens (o200k) the passages may take together, best first (default 2000). */
  contextTokens?: number;
  /** Field (dotted path) of the question (default `question`; `query` is read when it is absent, as VectorRetriever writes it). */
  question?: string;
  /** Field of the passages (default `contexts`, else `passages`, as VectorRetriever writes them). */
  contexts?: string;
  /**
   * Keep the record and put the messages in this field (e.g. `messages`, which OpenAIGenerator
   * reads), so that references and ids reach the evaluators; without it the messages are the record.
   */
  output?: string;
}

const DEFAULT_TEMPLATE =
  "Answer the question using only the context below. If the context does not contain the answer, say that you do not know.\n\nContext:\n{context}";

/**
 * Builds the chat messages of a retrieval-augmented question: a system prompt holding as many of
 * the passages as fit in the token budget (best first; the first that does not fit is cut to the
 * tokens left), and the question as the user's message.
 */
export class QAPromptor extends MapFunction<QAInput | Record<string, unknown>, ChatMessage[] | Record<string, unknown>> {
  readonly #template: string;
  readonly #budget: number;
  readonly #question: string | undefined;
  readonly #contexts: string | undefined;
  readonly #output: string | undefined;

  constructor(options: QAPromptorOptions = {}) {
    super();
    this.#template = options.template ?? DEFAULT_TEMPLATE;
    this.#budget = options.contextTokens ?? 2000;
    if (!Number.isInteger(this.#budget) || this.#budget < 0) throw new RangeError(`QAPromptor: contextTokens must be a whole number of 0 or more, not ${this.#budget}`);
    this.#question = options.question;
    this.#contexts = options.contexts;
    this.#output = options.output;
  }

  execute(input: QAInput | Record<string, unknown>): ChatMessage[] | Record<string, unknown> {
    const question = this.#question !== undefined ? fieldOf(input, this.#question) : (fieldOf(input, "question") ?? fieldOf(input, "query"));
    const contexts = this.#contexts !== undefined ? fieldOf(input, this.#contexts) : (fieldOf(input, "contexts") ?? fieldOf(input, "passages"));
    if (typeof question !== "string" || !Array.isArray(contexts)) {
      const names = `${this.#question ?? "question (or query)"}: string, ${this.#contexts ?? "contexts (or passages)"}: (string | { text })[]`;
      throw new TypeError(`QAPromptor takes { ${names} }`);
    }
    const passages: string[] = [];
    let left = this.#budget;
    for (const context of contexts as ReadonlyArray<string | { text?: string }>) {
      if (left <= 0) break;
      const text = typeof context === "string" ? context : (context?.text ?? "");
      if (text === "") continue;
      const tokens = encodeText(text);
      // Cut between two characters: a character spelled with several tokens is not cut in two.
      passages.push(tokens.length <= left ? text : decodeTokens(tokens.slice(0, characterCut(tokens, left))));
      left -= Math.min(left, tokens.length);
    }
    const context = passages.map((p, i) => `[${i + 1}] ${p}`).join("\n");
    // One pass, the values as they are: a passage with "$&" or "{question}" in it stays as written.
    const system = this.#template.replace(/\{(context|question)\}/g, (_, name: string) => (name === "context" ? context : question));
    const messages: ChatMessage[] = [
      { role: "system", content: system },
      { role: "user", content: question },
    ];
    return this.#output === undefined ? messages : { ...input, [this.#output]: messages };
  }
}
