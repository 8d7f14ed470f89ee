import { fnv1a32 } from "./fnv.js";

/** Options of a HashingEmbedder. */
export interface HashingEmbedderOptions {
  /** Length of the vectors (default 256). */
  dimensions?: number;
}

/**
 * A deterministic, offline embedder by feature hashing: each lower-cased word (and each pair of
 * neighbouring words) adds ±1 to a dimension chosen by its hash, and the vector is normalized to
 * length 1. Texts that share words get a high cosine similarity, so examples and tests run with no
 * model; the same text gives the same vector in every process.
 */
export class HashingEmbedder {
  readonly dimensions: number;

  constructor(options: HashingEmbedderOptions = {}) {
    const dimensions = options.dimensions ?? 256;
    if (!Number.isInteger(dimensions) || dimensions < 2) throw new RangeError(`HashingEmbedder: dimensions must be a whole number of at least 2, not ${dimensions}`);
    this.dimensions = dimensions;
  }

  /** The vectors of `texts`, in order. */
  embed(texts: readonly string[]): number[][] {
    return texts.map((text) => this.embedOne(text));
  }

  /** The vector of one text (all zeros for a text without words). */
  embedOne(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const add = (feature: string) => {
      const hash = fnv1a32(feature);
      vector[hash % this.dimensions]! += (hash & 0x80000000) === 0 ? 1 : -1;
    };
    for (let i = 0; i < words.length; i++) {
      add(words[i]!);
      if (i > 0) add(`${words[i - 1]} ${words[i]}`);
    }
    const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
    return norm === 0 ? vector : vector.map((x) => x / norm);
  }
}
