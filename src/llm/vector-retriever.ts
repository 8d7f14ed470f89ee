import { MapFunction } from "../api/functions.js";
import { embedderOf, type EmbedderOptions } from "./embedder.js";
import { textField } from "./record-fields.js";
import type { VectorMatch } from "./vector-store.js";

/** A retrieved passage, best first. */
export interface Passage {
  id: string;
  text: string;
  /** Cosine similarity to the query, from -1 to 1. */
  score: number;
  metadata: Record<string, unknown>;
}

/** Options of a VectorRetriever. */
export interface VectorRetrieverOptions extends EmbedderOptions {
  /** The VectorStore service (default `vectors`). */
  vectors?: string;
  /** Field of the query text (default `query`); a plain string record is the query itself. */
  query?: string;
  /** Field the passages are written to (default `passages`). */
  output?: string;
  /** Passages per query (default 4). */
  topK?: number;
  /** A metadata filter for every query, or a function giving each record's (undefined: none). */
  filter?: Record<string, unknown> | ((record: Record<string, unknown>) => Record<string, unknown> | undefined);
}

/**
 * Retrieves the passages most similar to a record's query from a VectorStore service: embeds the
 * query (local embedder or `llm` service) and adds `passages: [{ id, text, score, metadata }]`.
 * @example questions.map(VectorRetriever, { args: [{ embedder, topK: 5 }] }).map(LLMReranker, { args: [{ topN: 3 }] })
 */
export class VectorRetriever extends MapFunction<string | object, Record<string, unknown>> {
  readonly #service: string;
  readonly #query: string;
  readonly #output: string;
  readonly #topK: number;
  readonly #filter: VectorRetrieverOptions["filter"];
  readonly #embed: (texts: string[]) => number[][] | Promise<number[][]>;

  constructor(options: VectorRetrieverOptions = {}) {
    super();
    this.#service = options.vectors ?? "vectors";
    this.#query = options.query ?? "query";
    this.#output = options.output ?? "passages";
    this.#topK = options.topK ?? 4;
    this.#filter = options.filter;
    if (!Number.isInteger(this.#topK) || this.#topK < 1) throw new RangeError(`VectorRetriever: topK must be a whole number of at least 1, not ${this.#topK}`);
    this.#embed = embedderOf(options, this, "VectorRetriever");
  }

  async execute(input: string | object): Promise<Record<string, unknown>> {
    const record = (typeof input === "string" ? { [this.#query]: input } : input) as Record<string, unknown>;
    let query: string;
    try {
      query = textField(record, this.#query);
    } catch {
      throw new TypeError(`VectorRetriever: a record has no query text in '${this.#query}'`);
    }
    const [vector] = await this.#embed([query]);
    const filter = typeof this.#filter === "function" ? this.#filter(record) : this.#filter;
    const matches = await this.callService<VectorMatch[]>(this.#service, "search", vector, this.#topK, filter ? { filter } : {});
    const passages: Passage[] = matches.map((m) => ({ id: m.id, text: m.text ?? "", score: m.score, metadata: m.metadata ?? {} }));
    return { ...record, [this.#output]: passages };
  }
}
