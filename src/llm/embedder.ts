import type { BaseFunction } from "../api/functions.js";
import { isThenable } from "../runtime/thenable.js";

/** Anything that turns texts into vectors, in order: a HashingEmbedder, a model wrapper, ... */
export interface Embedder {
  embed(texts: string[]): number[][] | Promise<number[][]>;
}

/** How an operator gets its vectors: a local embedder, or the `embed` method of an LLM service. */
export interface EmbedderOptions {
  /** A local embedder object (e.g. `new HashingEmbedder()`); when omitted, the `llm` service embeds. */
  embedder?: Embedder;
  /** The service whose `embed(texts)` answers vectors (default `llm`), used without `embedder`. */
  llm?: string;
}

/** The embedding function of an operator: sync for a sync local embedder, else a Promise. */
export function embedderOf(options: EmbedderOptions, fn: BaseFunction, operator: string): (texts: string[]) => number[][] | Promise<number[][]> {
  const local = options.embedder;
  if (local !== undefined && typeof local?.embed !== "function") throw new TypeError(`${operator}: embedder must have an embed(texts) method`);
  const service = options.llm ?? "llm";
  const source = local ? "its embedder" : `service '${service}'`;
  const checked = (texts: string[], vectors: unknown): number[][] => {
    if (!Array.isArray(vectors) || vectors.length !== texts.length || !vectors.every((v) => Array.isArray(v))) {
      const got = Array.isArray(vectors) ? `${vectors.length} answers` : typeof vectors;
      throw new TypeError(`${operator}: ${source} answered embed() of ${texts.length} texts with ${got}, not ${texts.length} vectors`);
    }
    return vectors as number[][];
  };
  return (texts) => {
    const vectors = local ? local.embed(texts) : fn.callService<number[][]>(service, "embed", texts);
    return isThenable(vectors) ? Promise.resolve(vectors).then((v) => checked(texts, v)) : checked(texts, vectors);
  };
}
