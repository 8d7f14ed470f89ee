/** A candidate row of a search with its cosine similarity to the query. */
export interface ScoredRow {
  row: number;
  score: number;
}

/**
 * The vectors of a VectorStore as rows of one growing Float64Array, each scaled to length 1 (a
 * zero vector stays zero), so a cosine similarity is one dot product over contiguous memory.
 */
export class VectorRows {
  readonly dimensions: number;
  #data: Float64Array;
  #count = 0;

  constructor(dimensions: number) {
    this.dimensions = dimensions;
    this.#data = new Float64Array(dimensions * 64);
  }

  /** How many rows it holds. */
  get count(): number {
    return this.#count;
  }

  /** Stores `vector`, normalized, at `row` (the next row number appends one). */
  set(row: number, vector: ArrayLike<number>): void {
    if (row === this.#count) {
      if ((row + 1) * this.dimensions > this.#data.length) {
        const grown = new Float64Array(this.#data.length * 2);
        grown.set(this.#data);
        this.#data = grown;
      }
      this.#count++;
    }
    const norm = normOf(vector);
    const offset = row * this.dimensions;
    for (let i = 0; i < this.dimensions; i++) this.#data[offset + i] = norm === 0 ? 0 : vector[i]! / norm;
  }

  /** Whether a row is all zeros (it is similar to nothing, so an approximate index leaves it out). */
  isZero(row: number): boolean {
    const offset = row * this.dimensions;
    for (let i = 0; i < this.dimensions; i++) if (this.#data[offset + i] !== 0) return false;
    return true;
  }

  /** The dot product of a normalized query with a row: their cosine similarity. */
  score(query: Float64Array, row: number): number {
    const data = this.#data;
    const offset = row * this.dimensions;
    let dot = 0;
    for (let i = 0; i < query.length; i++) dot += query[i]! * data[offset + i]!;
    return dot;
  }

  /** Float32 copies of `rows`, one after another, for the approximate index. */
  float32(rows: readonly number[]): Float32Array {
    const out = new Float32Array(rows.length * this.dimensions);
    rows.forEach((row, i) => out.set(this.#data.subarray(row * this.dimensions, (row + 1) * this.dimensions), i * this.dimensions));
    return out;
  }

  /**
   * The `k` best rows for `query` among those `accept` lets through, best first; `before(a, b)`
   * orders rows of equal score. A bounded insertion keeps the per-row cost to one dot product
   * and a comparison for the rows that do not make the top.
   */
  top(query: Float64Array, k: number, accept: ((row: number) => boolean) | undefined, before: (a: number, b: number) => boolean): ScoredRow[] {
    const best: ScoredRow[] = [];
    if (k < 1) return best;
    for (let row = 0; row < this.#count; row++) {
      if (accept !== undefined && !accept(row)) continue;
      const score = this.score(query, row);
      if (best.length === k) {
        const worst = best[k - 1]!;
        if (score < worst.score || (score === worst.score && !before(row, worst.row))) continue;
        best.pop();
      }
      let i = best.length;
      while (i > 0 && (best[i - 1]!.score < score || (best[i - 1]!.score === score && before(row, best[i - 1]!.row)))) i--;
      best.splice(i, 0, { row, score });
    }
    return best;
  }
}

/** The Euclidean length of a vector (finite for any finite numbers: 1e200 and 1e-200 neither overflow nor vanish). */
export function normOf(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  if (sum > 1e-300 && sum < 1e300) return Math.sqrt(sum);
  // Squares out of float64's range: scaled by the largest magnitude first.
  let scale = 0;
  for (let i = 0; i < vector.length; i++) scale = Math.max(scale, Math.abs(vector[i]!));
  if (scale === 0) return 0;
  let scaled = 0;
  for (let i = 0; i < vector.length; i++) scaled += (vector[i]! / scale) ** 2;
  return scale * Math.sqrt(scaled);
}

/** A vector scaled to length 1 (all zeros stays all zeros), in float64. */
export function normalized(vector: ArrayLike<number>): Float64Array {
  const norm = normOf(vector);
  const out = new Float64Array(vector.length);
  if (norm > 0) for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}
