import { SinkFunction } from "../api/functions.js";
import { fieldOf } from "./record-fields.js";
import type { VectorEntry } from "./vector-store.js";

/** Options of a VectorIndexer. */
export interface VectorIndexerOptions {
  /** The VectorStore service (default `vectors`). */
  vectors?: string;
  /** Field of the entry's id (default `id`); a record with a list of vectors gets `<id>#<i>` ids. */
  id?: string;
  /** Field of the vector, or of a list of vectors (default `vector`, as EmbeddingMap writes it). */
  vector?: string;
  /** Field of the text, or of the list of texts matching a list of vectors (default `text`). */
  text?: string;
  /** Field holding the metadata object (default `metadata`), or the names of fields to copy into it. */
  metadata?: string | readonly string[];
  /** Entries sent per `add` call (default 64): one call per record would cost a round trip each. */
  batchSize?: number;
}

/**
 * A sink adding records to a VectorStore service as entries `{ id, vector, text, metadata }`,
 * in batches (the last one at close(), so every entry is stored when the job has finished).
 * @example chunks.map(EmbeddingMap, { args: [{ embedder }] }).sink(VectorIndexer, { args: [{ metadata: ["source"] }] })
 */
export class VectorIndexer extends SinkFunction<Record<string, unknown>> {
  readonly #service: string;
  readonly #id: string;
  readonly #vector: string;
  readonly #text: string;
  readonly #metadata: string | readonly string[];
  readonly #batchSize: number;
  #batch: VectorEntry[] = [];
  #added = 0;

  constructor(options: VectorIndexerOptions = {}) {
    super();
    this.#service = options.vectors ?? "vectors";
    this.#id = options.id ?? "id";
    this.#vector = options.vector ?? "vector";
    this.#text = options.text ?? "text";
    this.#metadata = options.metadata ?? "metadata";
    this.#batchSize = options.batchSize ?? 64;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) throw new RangeError(`VectorIndexer: batchSize must be a whole number of at least 1, not ${this.#batchSize}`);
  }

  execute(record: Record<string, unknown>): void | Promise<void> {
    const id = fieldOf(record, this.#id);
    if (typeof id !== "string" && typeof id !== "number") throw new TypeError(`VectorIndexer: a record has no id (a string or number) in '${this.#id}'`);
    const vector = fieldOf(record, this.#vector);
    const text = fieldOf(record, this.#text);
    const metadata = this.#metadataOf(record);
    if (Array.isArray(vector) && vector.length > 0 && Array.isArray(vector[0])) {
      (vector as number[][]).forEach((v, i) => this.#push(`${id}#${i}`, v, Array.isArray(text) ? text[i] : text, metadata));
    } else if (Array.isArray(vector)) {
      this.#push(String(id), vector as number[], text, metadata);
    } else {
      throw new TypeError(`VectorIndexer: record '${id}' has no vector (a list of numbers, or of vectors) in '${this.#vector}'`);
    }
    if (this.#batch.length >= this.#batchSize) return this.#flush();
  }

  async close(): Promise<void> {
    await this.#flush();
    this.logger.info(`added ${this.#added} entries to '${this.#service}'`);
  }

  #push(id: string, vector: number[], text: unknown, metadata: Record<string, unknown> | undefined): void {
    this.#batch.push({ id, vector, ...(typeof text === "string" && { text }), ...(metadata !== undefined && { metadata }) });
  }

  async #flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    await this.callService(this.#service, "add", batch);
    this.#added += batch.length;
  }

  #metadataOf(record: Record<string, unknown>): Record<string, unknown> | undefined {
    if (typeof this.#metadata === "string") {
      const value = fieldOf(record, this.#metadata);
      return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    }
    const metadata: Record<string, unknown> = {};
    for (const field of this.#metadata) {
      const value = fieldOf(record, field);
      if (value !== undefined) metadata[field] = value;
    }
    return metadata;
  }
}
