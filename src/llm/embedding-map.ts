import { MapFunction } from "../api/functions.js";
import { isThenable } from "../runtime/thenable.js";
import { embedderOf, type EmbedderOptions } from "./embedder.js";
import { fieldOf, MissingFieldError, textsField } from "./record-fields.js";

/** Options of an EmbeddingMap. */
export interface EmbeddingMapOptions extends EmbedderOptions {
  /** Field of the text, or of a list of texts (default `text`). */
  field?: string;
  /** Field the vector (or list of vectors, for a list of texts) is written to (default `vector`). */
  output?: string;
}

/**
 * Adds the embedding of a record's text: `{ text }` becomes `{ text, vector }`, a list of texts
 * gets a list of vectors from one call, a plain string becomes `{ text, vector }`. Vectors come
 * from a local `embedder` (no promise when it is sync) or from the `llm` service's `embed`.
 * @example chunks.map(EmbeddingMap, { args: [{ embedder: new HashingEmbedder() }] }).sink(VectorIndexer)
 */
export class EmbeddingMap extends MapFunction<string | Record<string, unknown>, Record<string, unknown>> {
  readonly #field: string;
  readonly #output: string;
  readonly #embed: (texts: string[]) => number[][] | Promise<number[][]>;

  constructor(options: EmbeddingMapOptions = {}) {
    super();
    this.#field = options.field ?? "text";
    this.#output = options.output ?? "vector";
    this.#embed = embedderOf(options, this, "EmbeddingMap");
  }

  execute(input: string | Record<string, unknown>): Record<string, unknown> | Promise<Record<string, unknown>> {
    const record = typeof input === "string" ? { [this.#field]: input } : input;
    let texts: string[];
    try {
      texts = textsField(record, this.#field);
    } catch (error) {
      if (error instanceof MissingFieldError) throw new TypeError(`EmbeddingMap: a record ${error.message}`);
      throw error;
    }
    const one = !Array.isArray(fieldOf(record, this.#field));
    const vectors = this.#embed(texts);
    const done = (v: number[][]) => ({ ...record, [this.#output]: one ? v[0] : v });
    return isThenable(vectors) ? (vectors as Promise<number[][]>).then(done) : done(vectors);
  }
}
