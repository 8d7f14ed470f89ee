import { characterCut, decodeTokens, encodeText } from "./text-tokens.js";
import { MapFunction } from "../api/functions.js";
import { fieldOf, textField } from "./record-fields.js";
import { parseRanking } from "./rerank-answer.js";

/** Options of an LLMReranker. */
export interface LLMRerankerOptions {
  /** The LLM service, whose `chat(prompt, { maxTokens, temperature })` answers `{ text }` (default `llm`). */
  llm?: string;
  /** Field of the query (default `query`). */
  query?: string;
  /** Field of the passages: strings or `{ text }` (default `passages`, as VectorRetriever writes them). */
  passages?: string;
  /** Passages kept, best first (default 3). */
  topN?: number;
  /** The prompt; `{query}` and `{passages}` (numbered from 1) are filled in. */
  template?: string;
  /** Tokens (o200k) of each passage shown to the model, the rest cut (default 300). */
  passageTokens?: number;
  /** Tokens the answer may take (default 50: a list of numbers). */
  maxTokens?: number;
}

const DEFAULT_TEMPLATE =
  "Rank the passages by how well they answer the query. Reply with the passage numbers only, most relevant first, separated by commas (for example: 3, 1, 2).\n\nQuery: {query}\n\nPassages:\n{passages}";

/**
 * Reorders a record's passages by asking an LLM service which answer the query best (one chat
 * call per record, temperature 0) and keeps the best `topN`. An answer that names no passage
 * keeps the original order; such answers are counted and reported at close().
 */
export class LLMReranker extends MapFunction<Record<string, unknown>, Record<string, unknown>> {
  readonly #llm: string;
  readonly #query: string;
  readonly #passages: string;
  readonly #topN: number;
  readonly #template: string;
  readonly #passageTokens: number;
  readonly #maxTokens: number;
  /** Records reranked by the model's answer, and records whose answer could not be read. */
  readonly counts = { reranked: 0, unparsed: 0 };

  constructor(options: LLMRerankerOptions = {}) {
    super();
    this.#llm = options.llm ?? "llm";
    this.#query = options.query ?? "query";
    this.#passages = options.passages ?? "passages";
    this.#topN = options.topN ?? 3;
    this.#template = options.template ?? DEFAULT_TEMPLATE;
    this.#passageTokens = options.passageTokens ?? 300;
    this.#maxTokens = options.maxTokens ?? 50;
    for (const [name, value] of [["topN", this.#topN], ["passageTokens", this.#passageTokens], ["maxTokens", this.#maxTokens]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`LLMReranker: ${name} must be a whole number of at least 1, not ${value}`);
    }
  }

  async execute(record: Record<string, unknown>): Promise<Record<string, unknown>> {
    let query: string;
    try {
      query = textField(record, this.#query);
    } catch {
      throw new TypeError(`LLMReranker: a record has no query text in '${this.#query}'`);
    }
    const passages = fieldOf(record, this.#passages);
    if (!Array.isArray(passages)) throw new TypeError(`LLMReranker: a record has no list of passages in '${this.#passages}'`);
    if (passages.length < 2) return { ...record, [this.#passages]: passages.slice(0, this.#topN) };
    const answer = await this.callService<{ text?: unknown }>(this.#llm, "chat", this.#prompt(query, passages), { maxTokens: this.#maxTokens, temperature: 0 });
    const order = typeof answer?.text === "string" ? parseRanking(answer.text, passages.length) : undefined;
    if (order === undefined) {
      if (this.counts.unparsed++ === 0) this.logger.warn(`the model's ranking names no passage (${JSON.stringify(String(answer?.text ?? answer)).slice(0, 120)}): the original order is kept`);
      return { ...record, [this.#passages]: passages.slice(0, this.#topN) };
    }
    this.counts.reranked++;
    return { ...record, [this.#passages]: order.slice(0, this.#topN).map((i) => passages[i]) };
  }

  close(): void {
    const { reranked, unparsed } = this.counts;
    if (reranked + unparsed > 0) this.logger.info(`reranked ${reranked} records; ${unparsed} answers named no passage (original order kept)`);
  }

  #prompt(query: string, passages: unknown[]): string {
    const numbered = passages.map((p, i) => {
      const text = typeof p === "string" ? p : String((p as { text?: unknown } | null)?.text ?? "");
      const tokens = encodeText(text);
      return `[${i + 1}] ${tokens.length <= this.#passageTokens ? text : `${decodeTokens(tokens.slice(0, characterCut(tokens, this.#passageTokens)))}...`}`;
    });
    // One pass, the values as they are: a passage with "$&" or "{query}" in it stays as written.
    const listed = numbered.join("\n");
    return this.#template.replace(/\{(query|passages)\}/g, (_, name: string) => (name === "query" ? query : listed));
  }
}
