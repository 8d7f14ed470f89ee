import { Evaluate, type EvaluateOptions } from "./evaluate.js";
import { tokenCount } from "./metrics.js";
import { fieldOf, MissingFieldError } from "./record-fields.js";

/**
 * Adds `tokens` (o200k tokens of the `prediction` field) to each record, with percentiles in the
 * aggregate. The field may hold a text, `{ text }`, or a list of them (passages: their sum), so
 * it also measures how much context a prompt carries (`prediction: "passages"`).
 */
export class TokenCountEvaluate extends Evaluate {
  constructor(options: EvaluateOptions = {}) {
    super(options, { metric: "tokens", percentiles: true });
  }

  protected get needs(): string {
    return `'${this.prediction}' (a text or list of texts)`;
  }

  protected score(record: object): number {
    const value = fieldOf(record, this.prediction);
    const items = Array.isArray(value) ? value : [value];
    let tokens = 0;
    for (const item of items) {
      const text = typeof item === "string" ? item : (item as { text?: unknown } | null | undefined)?.text;
      if (typeof text !== "string") throw new MissingFieldError(this.prediction, "text, { text } or list of them");
      tokens += tokenCount(text);
    }
    return tokens;
  }
}
