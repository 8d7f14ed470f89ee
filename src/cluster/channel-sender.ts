/**
 * The sending end of one channel in distributed mode. It numbers the channel's batches and makes
 * its caller wait while `capacity` of them are not yet taken by the receiving task (the receiver's
 * progress comes back as credit), or while too many publishes of the process await their PubAck.
 */
import type { ChannelSender } from "../runtime/transport.js";

/** How a channel's batches leave this process. */
export interface ChannelRoute {
  /**
   * Sends a batch (records undefined: end-of-stream) as one or more messages, numbering each
   * with `next()` (a batch too large for one NATS message travels in parts).
   */
  deliver(records: unknown[] | undefined, keys: unknown[] | undefined, next: () => number): void;
  /** Publishes awaiting their PubAck exceed the process's limit. */
  congested(): boolean;
  /** A waiting sender asks the receiver to report its progress again (a credit message may be lost). */
  ask(): void;
}

/** Options of one channel's sender. */
export interface ChannelOutOptions {
  /** Batches not yet taken by the receiver before the sender waits. */
  capacity: number;
  /** A feedback channel never waits and carries no end-of-stream. */
  feedback: boolean;
  /** How long a sender waits for credit before asking for it. */
  askAfterMs: number;
}

/** One channel's sending state: sequence numbers, credit, and the caller waiting on it. */
export class ChannelOut implements ChannelSender {
  readonly #route: ChannelRoute;
  readonly #options: ChannelOutOptions;
  #seq = 0;
  #taken = 0;
  /** The receiver never holds this channel again (it ended the channel, was aborted, or we closed). */
  #free = false;
  #wake: (() => void) | undefined;
  #askTimer: NodeJS.Timeout | undefined;

  constructor(route: ChannelRoute, options: ChannelOutOptions) {
    this.#route = route;
    this.#options = options;
    this.#free = options.feedback;
  }

  /** Sends a batch; a returned promise means "wait before sending more". */
  send(records: unknown[], keys: unknown[] | undefined): void | Promise<void> {
    if (this.#closed) return;
    this.#route.deliver(records, keys, this.#nextSeq);
    if (this.#free) return;
    if (this.#mustWait()) return this.#wait();
  }

  /** Sends end-of-stream, except on a feedback channel; never waits. */
  end(): void {
    if (this.#closed || this.#options.feedback) return;
    this.#route.deliver(undefined, undefined, this.#nextSeq);
  }

  /** The receiver has taken the channel's batches up to `seq` (cumulative; stale values are ignored). */
  credit(seq: number): void {
    if (seq <= this.#taken) return;
    this.#taken = seq;
    this.recheck();
  }

  /** The receiver will not hold this channel any more. */
  release(): void {
    this.#free = true;
    this.#resume();
  }

  /** Conditions changed (credit, PubAcks): lets a waiting caller go when it may. */
  recheck(): void {
    if (this.#wake !== undefined && !this.#mustWait()) this.#resume();
  }

  /** The transport closes: the caller goes, and later sends do nothing. */
  close(): void {
    this.#closed = true;
    this.release();
  }

  /** Whether a caller waits on this channel. */
  get waiting(): boolean {
    return this.#wake !== undefined;
  }

  // --- internal ---

  #closed = false;
  readonly #nextSeq = (): number => ++this.#seq;

  #mustWait(): boolean {
    return !this.#free && (this.#seq - this.#taken >= this.#options.capacity || this.#route.congested());
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#scheduleAsk();
    });
  }

  #scheduleAsk(): void {
    this.#askTimer = setTimeout(() => {
      if (this.#wake === undefined) return;
      this.#route.ask();
      this.#scheduleAsk();
    }, this.#options.askAfterMs);
    this.#askTimer.unref();
  }

  #resume(): void {
    clearTimeout(this.#askTimer);
    this.#askTimer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
