import { Evaluate, type EvaluateOptions } from "./evaluate.js";
import { normalizedWords } from "./metrics.js";
import { fieldOf, MissingFieldError } from "./record-fields.js";

/** Options of a ContextRecallEvaluate. */
export interface ContextRecallEvaluateOptions extends Omit<EvaluateOptions, "prediction"> {
  /** Field of the retrieved passages: strings or `{ id, text }` (default `passages`, as VectorRetriever sets it). */
  passages?: string;
  /**
   * `text` (default): `references` holds facts, found when a passage contains the fact's words in
   * order (after normalization); `id`: `references` holds the ids of the relevant passages.
   */
  by?: "text" | "id";
}

/**
 * Adds `contextRecall` to each record: the share of the reference facts (or relevant passage ids)
 * the retrieved passages hold, from 0 to 1; it measures the retriever, not the answer.
 */
export class ContextRecallEvaluate extends Evaluate {
  readonly #passages: string;
  readonly #by: "text" | "id";

  constructor(options: ContextRecallEvaluateOptions = {}) {
    super(options, { metric: "contextRecall" });
    this.#passages = options.passages ?? "passages";
    this.#by = options.by ?? "text";
    if (this.#by !== "text" && this.#by !== "id") throw new TypeError(`ContextRecallEvaluate: by must be 'text' or 'id', not '${String(this.#by)}'`);
  }

  protected get needs(): string {
    return `'${this.#passages}' (retrieved passages) and '${this.references}' (reference ${this.#by === "id" ? "ids" : "facts"})`;
  }

  protected score(record: object): number {
    const passages = fieldOf(record, this.#passages);
    if (!Array.isArray(passages)) throw new MissingFieldError(this.#passages, "list of passages");
    const wanted = this.#wanted(record);
    if (this.#by === "id") {
      const ids = new Set(passages.map((p) => String((p as { id?: unknown } | null)?.id)));
      return wanted.filter((id) => ids.has(id)).length / wanted.length;
    }
    // Word sequences with a space on each side, so a fact matches whole words only.
    const texts = passages.map((p) => ` ${normalizedWords(typeof p === "string" ? p : String((p as { text?: unknown } | null)?.text ?? "")).join(" ")} `);
    const found = wanted.filter((fact) => {
      const words = normalizedWords(fact);
      return words.length > 0 && texts.some((text) => text.includes(` ${words.join(" ")} `));
    });
    return found.length / wanted.length;
  }

  #wanted(record: object): string[] {
    const value = fieldOf(record, this.references);
    const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
    if (list.length === 0 || !list.every((v) => typeof v === "string" || (this.#by === "id" && typeof v === "number"))) {
      throw new MissingFieldError(this.references, this.#by === "id" ? "non-empty list of passage ids" : "fact or non-empty list of facts");
    }
    return list.map(String);
  }
}
