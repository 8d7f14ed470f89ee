/**
 * Numbers the publishes of one transport and knows up to which one every PubAck has come: an
 * input may be acknowledged only once every output started before it is persisted.
 */
export class PublishTracker {
  #started = 0;
  #persisted = 0;
  /** Finished out of order, above the watermark. */
  readonly #early = new Set<number>();
  #waiters: Array<{ upTo: number; resolve: () => void }> = [];
  #onAdvance: () => void;

  constructor(onAdvance: () => void) {
    this.#onAdvance = onAdvance;
  }

  /** The number of the last publish started. */
  get started(): number {
    return this.#started;
  }

  /** Every publish up to this number has its PubAck. */
  get persisted(): number {
    return this.#persisted;
  }

  /** Publishes waiting for their PubAck. */
  get inFlight(): number {
    return this.#started - this.#persisted - this.#early.size;
  }

  /** Numbers a new publish. */
  start(): number {
    return ++this.#started;
  }

  /** Publish `id` is persisted (or abandoned, at close). */
  finish(id: number): void {
    if (id !== this.#persisted + 1) {
      this.#early.add(id);
      return;
    }
    this.#persisted = id;
    while (this.#early.delete(this.#persisted + 1)) this.#persisted++;
    if (this.#waiters.length > 0) {
      const ready = this.#waiters.filter((w) => w.upTo <= this.#persisted);
      this.#waiters = this.#waiters.filter((w) => w.upTo > this.#persisted);
      for (const w of ready) w.resolve();
    }
    this.#onAdvance();
  }

  /** Resolves once every publish started so far is persisted. */
  settled(): Promise<void> {
    const upTo = this.#started;
    if (upTo <= this.#persisted) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ upTo, resolve }));
  }

  /** Wakes every waiter (the transport is closing). */
  release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }
}
