/**
 * A push-to-pull bridge: producers `push`, one consumer iterates with `for await`. Ends after
 * `close()` once drained; the consumer breaking out calls `onReturn` (to unsubscribe).
 */
export class EventStream<T> implements AsyncIterableIterator<T> {
  readonly #buffer: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #closed = false;

  constructor(private readonly onReturn: () => void = () => {}) {}

  /** Queues one item for the consumer. */
  push(item: T): void {
    if (this.#closed) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ value: item, done: false });
    } else {
      this.#buffer.push(item);
    }
  }

  /** No more items: the consumer ends after the buffered ones. */
  close(): void {
    this.#closed = true;
    if (this.#buffer.length === 0) this.#finish();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#buffer.length > 0) {
      const value = this.#buffer.shift()!;
      if (this.#closed && this.#buffer.length === 0) this.onReturn();
      return Promise.resolve({ value, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.#closed = true;
    this.#buffer.length = 0;
    this.#finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #finish(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ value: undefined, done: true });
    this.onReturn();
  }
}
