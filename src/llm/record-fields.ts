/** Thrown when a record lacks a field an operator reads; operators turn it into their own message or skip the record. */
export class MissingFieldError extends TypeError {
  constructor(
    readonly field: string,
    readonly expected: string,
  ) {
    super(`has no ${expected} in '${field}'`);
    this.name = "MissingFieldError";
  }
}

/** The value at a dotted path (`output.text`) of a record, or undefined. */
export function fieldOf(record: unknown, path: string): unknown {
  let value = record;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A field holding text: a string, or an object with a string `text` (an LLM answer, a passage). */
export function textField(record: unknown, path: string): string {
  const value = fieldOf(record, path);
  const text = typeof value === "string" ? value : (value as { text?: unknown } | null | undefined)?.text;
  if (typeof text !== "string") throw new MissingFieldError(path, "text (a string or { text })");
  return text;
}

/** A field holding one or more texts: a string, or a non-empty array of strings. */
export function textsField(record: unknown, path: string): string[] {
  const value = fieldOf(record, path);
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return value as string[];
  throw new MissingFieldError(path, "text or list of texts");
}

/** A copy of a record with `values` merged into its object at `field` (created when absent). */
export function withMerged<T extends object>(record: T, field: string, values: Record<string, unknown>): T {
  const previous = (record as Record<string, unknown>)[field];
  return { ...record, [field]: { ...(previous !== null && typeof previous === "object" ? previous : {}), ...values } };
}

/** Refuses anything but a plain object record, naming the operator and what it needs. */
export function requireObject(record: unknown, operator: string, needs: string): asserts record is Record<string, unknown> {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new TypeError(`${operator} takes records that are objects with ${needs}, not ${Array.isArray(record) ? "an array" : record === null ? "null" : typeof record}`);
  }
}
