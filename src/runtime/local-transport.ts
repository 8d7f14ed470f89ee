import type { EdgeSpec, TaskId } from "../graph/execution-graph.js";
import type { ChannelMessage, ChannelSender, Inbox, Transport } from "./transport.js";

/** Options of the in-process transport. */
export interface LocalTransportOptions {
  /** Messages an inbox holds before bounded senders wait. */
  capacity: number;
}

/** Moves batches between task instances of one process through bounded in-memory inboxes. */
export class LocalTransport implements Transport {
  readonly #inboxes = new Map<string, LocalInbox>();
  readonly #capacity: number;

  constructor(options: LocalTransportOptions) {
    this.#capacity = Math.max(1, options.capacity);
  }

  /** The inbox of one task instance, created on first use. */
  inbox(task: TaskId, index: number): LocalInbox {
    const key = `${task}/${index}`;
    let inbox = this.#inboxes.get(key);
    if (!inbox) this.#inboxes.set(key, (inbox = new LocalInbox(this.#capacity)));
    return inbox;
  }

  /** A sender into the target instance's inbox; feedback channels never block and carry no end-of-stream. */
  sender(edge: EdgeSpec, _from: number, to: number): ChannelSender {
    const inbox = this.inbox(edge.to, to);
    const input = edge.inputIndex;
    const loop = edge.loop !== undefined;
    const bounded = !edge.feedback;
    return {
      send: (records, keys) => inbox.put({ input, records, keys, eos: false, loop }, bounded),
      end: edge.feedback ? () => undefined : () => inbox.put({ input, records: [], keys: undefined, eos: true, loop }, false),
    };
  }

  /** Aborts every inbox. */
  async close(): Promise<void> {
    for (const inbox of this.#inboxes.values()) inbox.abort();
    this.#inboxes.clear();
  }
}

/** A FIFO of messages with a capacity: a put beyond it is accepted but asks the sender to wait. */
export class LocalInbox implements Inbox {
  #queue: Array<ChannelMessage | undefined> = [];
  #head = 0;
  #taker: ((message: ChannelMessage | undefined) => void) | undefined;
  #spaceWaiters: Array<() => void> = [];
  #aborted = false;

  constructor(readonly capacity: number) {}

  /** Itself: its size and capacity are what a status shows. */
  get fill(): LocalInbox {
    return this;
  }

  /** Messages waiting. */
  get size(): number {
    return this.#queue.length - this.#head;
  }

  /** Enqueues `message`; when `bounded` and the inbox is full, resolves once it has drained to half. */
  put(message: ChannelMessage, bounded: boolean): void | Promise<void> {
    if (this.#aborted) return;
    const taker = this.#taker;
    if (taker) {
      this.#taker = undefined;
      taker(message);
      return;
    }
    this.#queue.push(message);
    if (bounded && this.size > this.capacity) return new Promise((resolve) => this.#spaceWaiters.push(resolve));
  }

  /** The next message if one is waiting. */
  poll(): ChannelMessage | undefined {
    if (this.#head === this.#queue.length) return undefined;
    const message = this.#queue[this.#head];
    this.#queue[this.#head++] = undefined;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    // Wake senders at half capacity rather than at every free slot: fewer, larger bursts.
    if (this.#spaceWaiters.length > 0 && this.size * 2 <= this.capacity) this.#wakeSenders();
    return message;
  }

  /** The next message, waiting for one if needed; `undefined` once aborted. */
  take(): Promise<ChannelMessage | undefined> {
    const message = this.poll();
    if (message !== undefined || this.#aborted) return Promise.resolve(message);
    return new Promise((resolve) => {
      this.#taker = resolve;
    });
  }

  /** Drops everything and wakes all waiters. */
  abort(): void {
    this.#aborted = true;
    this.#queue = [];
    this.#head = 0;
    this.#wakeSenders();
    const taker = this.#taker;
    this.#taker = undefined;
    taker?.(undefined);
  }

  #wakeSenders(): void {
    const waiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const wake of waiters) wake();
  }
}
