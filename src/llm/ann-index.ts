import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync } from "node:fs";
import type { Index } from "usearch";
import { requireNative } from "./native-module.js";

/** Tuning of the approximate (HNSW) index; larger values find more true neighbours, slower. */
export interface AnnOptions {
  /** Graph edges per vector (default 16). */
  connectivity?: number;
  /** Candidates considered while inserting (default 128). */
  expansionAdd?: number;
  /**
   * Candidates considered while searching (default 256): random, unclustered vectors need this
   * much for a recall@10 near 0.97; real embeddings are easier.
   */
  expansionSearch?: number;
}

type Usearch = typeof import("usearch");

/**
 * An HNSW index (usearch, cosine) over the rows of a VectorStore, keyed by row number. It holds
 * float32 copies of the vectors only to walk its graph: scores come from the store's own rows.
 */
export class AnnIndex {
  readonly #index: Index;
  readonly config: Required<AnnOptions> & { dimensions: number };

  constructor(dimensions: number, options: AnnOptions = {}) {
    this.config = {
      dimensions,
      connectivity: options.connectivity ?? 16,
      expansionAdd: options.expansionAdd ?? 128,
      expansionSearch: options.expansionSearch ?? 256,
    };
    for (const [key, value] of Object.entries(this.config)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`VectorStore: ${key} must be a whole number of at least 1, not ${value}`);
    }
    const { Index } = requireNative<Usearch>("usearch");
    this.#index = new Index({
      dimensions,
      metric: "cos" as never,
      quantization: "f32" as never,
      connectivity: this.config.connectivity,
      expansion_add: this.config.expansionAdd,
      expansion_search: this.config.expansionSearch,
      multi: false,
    });
  }

  /** How many rows it holds. */
  get size(): number {
    return this.#index.size();
  }

  /** Adds rows (`vectors` holds them one after another); a row already present is replaced. */
  add(rows: readonly number[], vectors: Float32Array): void {
    if (rows.length === 0) return;
    this.remove(rows);
    this.#index.add(BigUint64Array.from(rows, (row) => BigInt(row)), vectors, 0);
  }

  /** Takes rows out (those absent are ignored). */
  remove(rows: readonly number[]): void {
    if (rows.length === 0) return;
    const keys = BigUint64Array.from(rows, (row) => BigInt(row));
    const present = this.#index.contains(keys);
    const stale = keys.filter((_, i) => (Array.isArray(present) ? present[i] : present));
    if (stale.length > 0) this.#index.remove(stale);
  }

  /** Up to `count` rows nearest to `query` (float32, any length above 0), nearest first. */
  search(query: Float32Array, count: number): number[] {
    if (this.#index.size() === 0 || count < 1) return [];
    const { keys } = this.#index.search(query, Math.min(count, this.#index.size()), 1);
    return Array.from(keys, Number);
  }

  /**
   * Writes the index to `file` (through a temporary file, so a crash leaves the old one whole)
   * and answers the file's SHA-256, which `load` requires.
   */
  save(file: string): string {
    const partial = `${file}.partial`;
    this.#index.save(partial);
    const digest = digestOf(partial);
    renameSync(partial, file);
    return digest;
  }

  /**
   * The index saved in `file`, or undefined when the file is missing or is not the one saved with
   * `digest`. The check comes first because usearch crashes the process on a file it cannot parse.
   */
  static load(file: string, config: AnnIndex["config"], digest: string): AnnIndex | undefined {
    if (!existsSync(file) || digestOf(file) !== digest) return undefined;
    const ann = new this(config.dimensions, config); // `this`: a class naming itself in its body is renamed by the bundler
    ann.#index.load(file);
    return ann.#index.dimensions() === config.dimensions ? ann : undefined;
  }
}

function digestOf(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}
