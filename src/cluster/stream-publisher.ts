/**
 * Publishes to JetStream with many PubAcks in flight through one reply subscription: no promise,
 * timer or error object per message (what a request costs), which matters at thousands of batches
 * a second. A publish without its PubAck in time, or refused, is sent again; the message id header
 * makes the stream store it once.
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/nats-core";

/** Options of a stream publisher. */
export interface StreamPublisherOptions {
  /** How long a publish waits for its PubAck before it is sent again. */
  timeoutMs: number;
  /** Told of a publish that failed and is being retried. */
  onRetry: (error: Error, subject: string, attempt: number) => void;
}

interface Pending {
  readonly subject: string;
  readonly body: Uint8Array;
  readonly headers: MsgHdrs;
  readonly done: () => void;
  sentAt: number;
  attempts: number;
}

const decoder = new TextDecoder();
/** How a PubAck begins. */
const STORED = new TextEncoder().encode('{"stream":');

/** One connection's publisher into streams. */
export class StreamPublisher {
  readonly #nc: NatsConnection;
  readonly #options: StreamPublisherOptions;
  readonly #prefix: string;
  readonly #sub: Subscription;
  /** In send order, so the oldest come first when looking for timeouts. */
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(nc: NatsConnection, options: StreamPublisherOptions) {
    this.#nc = nc;
    this.#options = options;
    // The connection's own inbox prefix, if it has one (accounts may only allow that).
    this.#prefix = createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    this.#sub = nc.subscribe(`${this.#prefix}.*`, { callback: (_error, msg) => this.#reply(msg) });
  }

  /** Publishes `body`; `done` is called once the stream has stored it. */
  publish(subject: string, body: Uint8Array, headers: MsgHdrs, done: () => void): void {
    if (this.#closed) return;
    const id = ++this.#next;
    const pending: Pending = { subject, body, headers, done, sentAt: 0, attempts: 0 };
    this.#pending.set(id, pending);
    this.#send(id, pending);
    this.#sweep ??= setInterval(() => this.#expire(), Math.max(50, this.#options.timeoutMs / 4)).unref();
  }

  /** Publishes waiting for their PubAck. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Sends every pending publish again (after a reconnect: those on the wire when the connection
   * dropped are lost, and waiting out the timeout would stall the senders). A repeat the stream
   * stores twice is dropped by the receiver.
   */
  resend(): void {
    for (const [id, pending] of [...this.#pending]) if (pending.sentAt !== Number.POSITIVE_INFINITY) this.#send(id, pending);
  }

  /** Stops: pending publishes are abandoned (their `done` is never called). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#pending.clear();
    this.#sub.unsubscribe();
  }

  // --- internal ---

  #send(id: number, pending: Pending): void {
    pending.sentAt = Date.now();
    pending.attempts++;
    try {
      this.#nc.publish(pending.subject, pending.body, { reply: `${this.#prefix}.${id}`, headers: pending.headers });
    } catch (error) {
      // A closed connection: nothing to retry through.
      if (!this.#nc.isClosed()) this.#retry(id, pending, error);
    }
  }

  #reply(msg: Msg): void {
    const id = Number(msg.subject.slice(this.#prefix.length + 1));
    const pending = this.#pending.get(id);
    if (!pending) return; // answered already (a retry's second PubAck), or closed
    const failure = refusal(msg);
    if (failure) {
      this.#retry(id, pending, failure);
      return;
    }
    this.#pending.delete(id);
    pending.done();
  }

  #retry(id: number, pending: Pending, error: unknown): void {
    if (this.#closed) return;
    this.#options.onRetry(error instanceof Error ? error : new Error(String(error)), pending.subject, pending.attempts);
    // Moved to the end of the send order; sent again after a back-off that grows to 2 s.
    this.#pending.delete(id);
    this.#pending.set(id, pending);
    pending.sentAt = Number.POSITIVE_INFINITY;
    setTimeout(() => {
      if (this.#pending.get(id) === pending) this.#send(id, pending);
    }, Math.min(50 * 2 ** Math.min(pending.attempts, 6), 2000)).unref();
  }

  #expire(): void {
    if (this.#pending.size === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
      return;
    }
    const before = Date.now() - this.#options.timeoutMs;
    for (const [id, pending] of [...this.#pending]) {
      if (pending.sentAt === Number.POSITIVE_INFINITY) continue; // waiting to be retried
      if (pending.sentAt > before) break;
      this.#retry(id, pending, new Error(`no PubAck within ${this.#options.timeoutMs} ms`));
    }
  }
}

// Why the stream did not store a message: no stream answering (503), or an API error; undefined for a PubAck.
function refusal(msg: Msg): Error | undefined {
  if (startsWith(msg.data, STORED)) return undefined; // the usual answer, recognised without parsing it
  if (msg.data.length === 0) {
    return new Error(msg.headers?.code === 503 ? "no stream answered (JetStream down, or the job's stream is gone)" : "an empty PubAck");
  }
  try {
    const ack = JSON.parse(decoder.decode(msg.data)) as { error?: { description?: string; code?: number }; stream?: string };
    if (ack.error) return new Error(`JetStream refused the batch: ${ack.error.description ?? "error"} (${ack.error.code ?? "?"})`);
    return ack.stream ? undefined : new Error("an invalid PubAck");
  } catch {
    return new Error("an unreadable PubAck");
  }
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}
