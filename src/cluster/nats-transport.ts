/**
 * The Transport of distributed mode: batches travel on the job's JetStream stream, one subject per
 * receiving instance, so an instance re-placed after its process died finds every batch it had
 * not acknowledged. Backpressure is credit per channel on core NATS.
 *
 * @remarks
 * At-least-once: an inbox acknowledges a message only when the task has processed it (it asked
 * for the next one, or `taskEnded`) and every publish this transport started before then has its
 * PubAck. A batch may thus arrive twice after a re-placement; a channel still ends exactly once.
 */
import { Empty, nuid, type NatsConnection, type Status, type Subscription } from "@nats-io/nats-core";
import { jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { EdgeSpec, TaskId } from "../graph/execution-graph.js";
import type { ChannelSender, Transport } from "../runtime/transport.js";
import { ChannelOut, type ChannelRoute } from "./channel-sender.js";
import { batchHeaders, channelKey, encodeBatch, type BatchMeta } from "./channel-wire.js";
import { decodeCredit, type CreditMessage } from "./credit.js";
import { NatsInbox, type InboxHost } from "./nats-inbox.js";
import { PublishTracker } from "./publish-tracker.js";
import { StreamPublisher } from "./stream-publisher.js";
import { messageOf } from "../api/errors.js";
import { subjects } from "./subjects.js";

/** Options of a NATS transport. */
export interface NatsTransportOptions {
  jobId: string;
  /**
   * Batches of a channel not yet taken by the receiving task before its sender waits. The window
   * must cover a round trip through the broker: a small one costs throughput (see
   * bench/distributed/exchange.ts).
   */
  capacity: number;
  /**
   * Instances hosted in this same process whose senders here may skip NATS (the driver only:
   * on a worker everything goes through JetStream, so nothing is lost when the worker dies).
   */
  localShortcut?: (task: TaskId, index: number) => boolean;
  /** A delivered message not acknowledged within this time is delivered again (default 30 s). */
  ackWaitMs?: number;
  /** Publishes awaiting their PubAck before senders wait (default 128). */
  maxInFlight?: number;
  /** How long a sender waits for credit before asking the receiver for it (default 200 ms). */
  askAfterMs?: number;
  /** Told of failures no call can return (consumer setup, publishes being retried); default: a warning. */
  onError?: (error: Error) => void;
}

/**
 * Batches a channel between processes may have in flight unless the job's config says otherwise
 * (channelCapacity): more than within one process, as the window must cover a round trip through
 * the broker. W1 on 2 workers (batches of 256 records) ran at about 0.8x a raw JetStream exchange
 * with 16, at 1.0x with 128 (bench/distributed).
 */
export const NATS_CHANNEL_CAPACITY = 128;

/** A distributed job's channel capacity: its config's channelCapacity, else NATS_CHANNEL_CAPACITY. */
export function natsChannelCapacity(config: { channelCapacity?: unknown }): number {
  const configured = config.channelCapacity;
  return typeof configured === "number" && configured > 0 ? configured : NATS_CHANNEL_CAPACITY;
}

/** How long one publish waits for its PubAck before it is sent again (a repeat is dropped by the receiver). */
const PUBLISH_TIMEOUT_MS = 5000;
/** Room for subject and headers within the server's max_payload. */
const HEADER_ROOM = 2048;

interface Target {
  readonly task: TaskId;
  readonly index: number;
  readonly channels: Map<string, ChannelOut>;
  credit: Subscription | undefined;
}

/** Moves batches between task instances of a job over NATS JetStream. */
export class NatsTransport implements Transport {
  /** This process's incarnation: a re-placed sender numbers its channels afresh under a new one. */
  readonly id = nuid.next();
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #options: Required<Omit<NatsTransportOptions, "localShortcut">> & Pick<NatsTransportOptions, "localShortcut">;
  readonly #inboxes = new Map<string, NatsInbox>();
  readonly #targets = new Map<string, Target>();
  readonly #tracker = new PublishTracker(() => this.#persistedAdvanced());
  readonly #publisher: StreamPublisher;
  readonly #host: InboxHost;
  readonly #status: AsyncIterable<Status>;
  #closed = false;

  /** A transport for one job on `nc` (the job's stream must exist: see ensureJobStream). */
  static async create(nc: NatsConnection, options: NatsTransportOptions): Promise<NatsTransport> {
    const jsm = await jetstreamManager(nc);
    return new this(nc, jsm, options);
  }

  private constructor(nc: NatsConnection, jsm: JetStreamManager, options: NatsTransportOptions) {
    this.#nc = nc;
    this.#js = jsm.jetstream();
    this.#options = {
      ackWaitMs: 30_000,
      maxInFlight: 128,
      askAfterMs: 200,
      onError: (error) => console.warn(`sage: ${error.message}`),
      ...options,
      capacity: Math.max(1, options.capacity),
    };
    this.#publisher = new StreamPublisher(nc, {
      timeoutMs: PUBLISH_TIMEOUT_MS,
      onRetry: (error, subject, attempt) => {
        if (attempt % 10 === 1) this.#report(error, `publishing to ${subject} (retrying)`);
      },
    });
    const transport = this;
    this.#host = {
      nc,
      jsm,
      js: this.#js,
      jobId: options.jobId,
      ackWaitMs: this.#options.ackWaitMs,
      creditStep: Math.max(1, Math.floor(this.#options.capacity / 4)),
      capacity: this.#options.capacity,
      tracker: this.#tracker,
      report: (error, what) => this.#report(error, what),
      released(task, index) {
        transport.#release(task as TaskId, index);
      },
    };
    this.#status = nc.status();
    void this.#watchConnection();
  }

  /** The inbox of instance `index` of `task` in this process; its consumer is set up in the background. */
  inbox(task: TaskId, index: number): NatsInbox {
    const key = `${task}/${index}`;
    let inbox = this.#inboxes.get(key);
    if (!inbox) this.#inboxes.set(key, (inbox = new NatsInbox(this.#host, task, index)));
    if (this.#closed) void inbox.stop();
    return inbox;
  }

  /** The sender on the channel of `edge` from instance `from` to instance `to` (one per channel). */
  sender(edge: EdgeSpec, from: number, to: number): ChannelSender {
    const target = this.#target(edge.to, to);
    const key = channelKey(edge.id, from);
    const existing = target.channels.get(key);
    if (existing) return existing;
    const local = this.#options.localShortcut?.(edge.to, to) ?? false;
    const options = { capacity: this.#options.capacity, feedback: edge.feedback, askAfterMs: this.#options.askAfterMs };
    let out: ChannelOut;
    if (local) {
      out = new ChannelOut(this.#localRoute(edge, to, () => out), options);
    } else {
      const meta = { channel: key, gen: this.id, input: edge.inputIndex, loop: edge.loop !== undefined };
      out = new ChannelOut(this.#remoteRoute(target, meta), options);
      if (!edge.feedback) this.#subscribeCredit(target);
    }
    if (this.#closed) out.close();
    target.channels.set(key, out);
    return out;
  }

  /**
   * The task instance hosted here ended: what it took is processed. Resolves once its inbox has
   * acknowledged that, after this process's outputs so far are persisted.
   */
  async taskEnded(task: TaskId, index: number): Promise<void> {
    await this.#inboxes.get(`${task}/${index}`)?.taskEnded();
  }

  /** Resolves once every publish started so far has its PubAck. */
  flush(): Promise<void> {
    return this.#tracker.settled();
  }

  /** Stops consumers, wakes takers with undefined and releases waiting senders; the stream stays. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    (this.#status as { stop?: () => void }).stop?.();
    for (const target of this.#targets.values()) {
      target.credit?.unsubscribe();
      for (const out of target.channels.values()) out.close();
    }
    this.#publisher.close();
    this.#tracker.release();
    await Promise.all([...this.#inboxes.values()].map((inbox) => inbox.stop()));
  }

  // --- internal ---

  #target(task: TaskId, index: number): Target {
    const key = `${task}/${index}`;
    let target = this.#targets.get(key);
    if (!target) this.#targets.set(key, (target = { task, index, channels: new Map(), credit: undefined }));
    return target;
  }

  #remoteRoute(target: Target, meta: Omit<BatchMeta, "seq" | "eos">): ChannelRoute {
    const subject = subjects.data(this.#options.jobId, target.task, target.index);
    const askSubject = subjects.creditAsk(this.#options.jobId, target.task, target.index);
    return {
      deliver: (records, keys, next) => {
        if (records === undefined) {
          this.#publish(subject, { ...meta, seq: next(), eos: true }, Empty);
          return;
        }
        for (const body of this.#bodies(records, keys)) this.#publish(subject, { ...meta, seq: next(), eos: false }, body);
      },
      congested: () => this.#tracker.inFlight >= this.#options.maxInFlight,
      ask: () => this.#ask(askSubject),
    };
  }

  #localRoute(edge: EdgeSpec, to: number, out: () => ChannelOut): ChannelRoute {
    const input = edge.inputIndex;
    const loop = edge.loop !== undefined;
    const bounded = !edge.feedback;
    return {
      deliver: (records, keys, next) => {
        const seq = next();
        const message = { input, records: records ?? [], keys, eos: records === undefined, loop };
        this.inbox(edge.to, to).putLocal({ message, onTaken: bounded ? () => out().credit(seq) : undefined });
      },
      congested: () => false,
      ask: () => undefined,
    };
  }

  // The encoded batch, split in halves until each part fits in one NATS message.
  #bodies(records: unknown[], keys: unknown[] | undefined): Uint8Array[] {
    let body: Uint8Array;
    try {
      body = encodeBatch(records, keys);
    } catch (error) {
      throw new TypeError(
        `a record cannot be sent over the cluster (records travel by structured clone: plain data, Maps, Sets, Dates, typed arrays; no functions or class instances with methods): ${messageOf(error)}`,
        { cause: error },
      );
    }
    const limit = (this.#nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM;
    if (body.length <= limit) return [body];
    if (records.length === 1) {
      throw new RangeError(`a record of ${body.length} bytes does not fit in a NATS message (the server's max_payload is ${limit + HEADER_ROOM} bytes)`);
    }
    const half = records.length >>> 1;
    return [
      ...this.#bodies(records.slice(0, half), keys?.slice(0, half)),
      ...this.#bodies(records.slice(half), keys?.slice(half)),
    ];
  }

  #publish(subject: string, meta: BatchMeta, body: Uint8Array): void {
    const id = this.#tracker.start();
    this.#publisher.publish(subject, body, batchHeaders(meta), () => this.#tracker.finish(id));
  }

  #subscribeCredit(target: Target): void {
    if (target.credit) return;
    const subject = subjects.credit(this.#options.jobId, target.task, target.index);
    target.credit = this.#nc.subscribe(subject, { callback: (_error, msg) => this.#onCredit(target, decodeCredit(msg.data)) });
  }

  #onCredit(target: Target, message: CreditMessage | undefined): void {
    if (!message) return;
    if (message.type === "released") {
      for (const out of target.channels.values()) out.release();
      return;
    }
    for (const [channel, gen, seq] of message.taken) if (gen === this.id) target.channels.get(channel)?.credit(seq);
    for (const channel of message.ended) target.channels.get(channel)?.release();
  }

  #ask(subject: string): void {
    if (this.#closed) return;
    try {
      this.#nc.publish(subject);
    } catch (error) {
      if (!this.#nc.isClosed()) this.#report(error, "asking for credit");
    }
  }

  // An inbox of this process was aborted: its senders here must not wait for it.
  #release(task: TaskId, index: number): void {
    const target = this.#targets.get(`${task}/${index}`);
    if (target) for (const out of target.channels.values()) out.release();
  }

  #persistedAdvanced(): void {
    for (const inbox of this.#inboxes.values()) inbox.scheduleAck();
    for (const target of this.#targets.values()) for (const out of target.channels.values()) if (out.waiting) out.recheck();
  }

  async #watchConnection(): Promise<void> {
    try {
      for await (const status of this.#status) {
        if (this.#closed) return;
        if (status.type === "disconnect") for (const inbox of this.#inboxes.values()) inbox.freeze();
        else if (status.type === "reconnect") {
          this.#publisher.resend();
          for (const inbox of this.#inboxes.values()) inbox.reopen();
        }
      }
    } catch {
      // the connection closed
    }
  }

  #report(error: unknown, what: string): void {
    const cause = error instanceof Error ? error : new Error(String(error));
    this.#options.onError(new Error(`${what}: ${cause.message}`, { cause }));
  }
}
