/** Appends the records a flatMap/join result stands for: nothing for null/undefined, a string as one record, each item of an iterable, else the value itself. */
export function expandInto(value: unknown, out: unknown[]): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) out.push(value[i]);
    return;
  }
  if (typeof value === "object" && Symbol.iterator in value) {
    for (const item of value as Iterable<unknown>) out.push(item);
    return;
  }
  out.push(value);
}

/** Whether `value` must be awaited item by item. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === "object" && Symbol.asyncIterator in value;
}
