/**
 * The receiving end of one task instance in distributed mode: a durable pull consumer on the
 * instance's data subject, channels put back in order, progress reported to the senders, and
 * acknowledgements that never run ahead of the task or of the outputs it published.
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { ChannelMessage, Inbox } from "../runtime/transport.js";
import { AckLedger, type LedgerEntry } from "./ack-ledger.js";
import { ChannelLine } from "./channel-line.js";
import { decodeBatch, readBatchMeta, type BatchMeta } from "./channel-wire.js";
import { encodeCredit, type CreditMessage } from "./credit.js";
import { openInboxConsumer, purgeAcknowledged } from "./job-stream.js";
import type { PublishTracker } from "./publish-tracker.js";
import { subjects } from "./subjects.js";

/** What an inbox uses of the transport that made it. */
export interface InboxHost {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly js: JetStreamClient;
  readonly jobId: string;
  readonly ackWaitMs: number;
  /** Progress is reported at once after this many batches of a channel are taken (else once per turn of the event loop). */
  readonly creditStep: number;
  /** Batches one channel may have in flight into an inbox: what its fill is measured against. */
  readonly capacity: number;
  /** The publishes of this process: an input is acknowledged only after its outputs are persisted. */
  readonly tracker: PublishTracker;
  /** A failure no call can return (consumer setup, a bad message). */
  report(error: unknown, what: string): void;
  /** The inbox was aborted: this process's senders into it must not wait any more. */
  released(task: string, index: number): void;
}

/** A message handed over in this process (the driver's shortcut): no JetStream, no acknowledgement. */
export interface LocalArrival {
  readonly message: ChannelMessage;
  /** Called when the task takes it, for the sender's backpressure. */
  readonly onTaken: (() => void) | undefined;
}

interface RemoteArrival {
  readonly meta: BatchMeta;
  readonly data: Uint8Array;
  readonly entry: LedgerEntry<JsMsg>;
  readonly line: ChannelLine<RemoteArrival>;
}

type Arrival = RemoteArrival | LocalArrival;

/** Acks are cumulative: one per this many milliseconds covers everything finished meanwhile. */
const ACK_DELAY_MS = 20;
/** Acknowledged messages are purged from the stream at most this often, so a long job's stream stays small. */
const PURGE_EVERY_MS = 1000;
/** Messages one pull asks for. */
const PULL_BATCH = 128;
/** Wait before retrying a failed consumer setup. */
const RETRY_MS = 500;

/**
 * Counts the async calls of a task's functions in flight (the runtime's WorkCounter); calls back
 * when none is left.
 */
export class InFlightWork {
  inFlight = 0;
  constructor(private readonly idle: () => void) {}
  acquire(count = 1): void {
    this.inFlight += count;
  }
  release(count = 1): void {
    this.inFlight = Math.max(0, this.inFlight - count);
    if (this.inFlight === 0) this.idle();
  }
}

/** The inbox of one task instance hosted in this process. */
export class NatsInbox implements Inbox {
  readonly #host: InboxHost;
  readonly #task: string;
  readonly #index: number;
  readonly #ledger = new AckLedger<JsMsg>();
  readonly #lines = new Map<string, ChannelLine<RemoteArrival>>();
  #queue: Array<Arrival | undefined> = [];
  #head = 0;
  #taker: ((message: ChannelMessage | undefined) => void) | undefined;
  /** Handed to the task and not yet processed: it is when the task asks for the next one. */
  #last: Arrival | undefined;
  #stopped = false;
  #aborted = false;
  /** Acks wait while the connection is down: a message lost in transit must not be covered by a later ack. */
  #frozen = false;
  #messages: ConsumerMessages | undefined;
  readonly #askSub: Subscription;
  readonly #creditSubject: string;
  readonly #dirty = new Set<string>();
  #creditScheduled = false;
  #ackTimer: NodeJS.Timeout | undefined;
  #lastPurge = 0;
  #purging = false;
  #opening: Promise<void>;
  /** Processed by the task but with async calls still in flight: finished once none is. */
  #unsettled: LedgerEntry<JsMsg>[] = [];
  /** Ends of channels the task took: acknowledged when the task ends. */
  readonly #heldEnds: LedgerEntry<JsMsg>[] = [];
  /** Async calls of the task's functions in flight (for records it took): outputs still to come. */
  readonly work: InFlightWork = new InFlightWork(() => this.#settle());

  constructor(host: InboxHost, task: string, index: number) {
    this.#host = host;
    this.#task = task;
    this.#index = index;
    this.#creditSubject = subjects.credit(host.jobId, task, index);
    this.#askSub = host.nc.subscribe(subjects.creditAsk(host.jobId, task, index), { callback: () => this.#onAsk() });
    this.#opening = this.#open(undefined);
  }

  /** How full it is, for status: batches delivered and waiting for the task, against the credit of the channels seen. */
  get fill(): { size: number; capacity: number } {
    return { size: this.#queue.length - this.#head, capacity: this.#host.capacity * Math.max(1, this.#lines.size) };
  }

  /** Resolves once the consumer delivers (tests and benchmarks wait for it; the task need not). */
  ready(): Promise<void> {
    return this.#opening;
  }

  /** The next message if one is waiting. */
  poll(): ChannelMessage | undefined {
    this.#finishLast();
    return this.#next();
  }

  /** The next message, waiting for it; `undefined` once aborted or closed. */
  take(): Promise<ChannelMessage | undefined> {
    const message = this.poll();
    if (message !== undefined || this.#stopped) return Promise.resolve(message);
    return new Promise((resolve) => {
      this.#taker = resolve;
    });
  }

  /** Drops queued and future messages, wakes the taker and frees every sender into this instance. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#publishCredit({ type: "released" });
    this.#host.released(this.#task, this.#index);
    void this.stop();
  }

  /** A message from a sender in this process. */
  putLocal(arrival: LocalArrival): void {
    if (this.#stopped) return;
    this.#enqueue(arrival);
  }

  /**
   * The task ended: what it took is processed. Resolves once that is acknowledged, after the
   * outputs published so far are persisted.
   */
  async taskEnded(): Promise<void> {
    this.#finishLast();
    // An ended task has no call left in flight.
    this.work.inFlight = 0;
    this.#settle();
    for (const entry of this.#heldEnds.splice(0)) this.#ledger.finish(entry, this.#host.tracker.started);
    await this.#opening;
    await this.#host.tracker.settled();
    if (this.#stopped) return;
    const entry = this.#ledger.advance(this.#host.tracker.persisted);
    try {
      if (entry) await entry.msg.ackAck();
    } catch (error) {
      // Not acknowledged: a re-placed instance would process the tail again (at-least-once).
      if (!this.#stopped) this.#host.report(error, `acknowledging the last batches of ${this.#task}#${this.#index}`);
    }
  }

  /** The connection dropped: hold acknowledgements until the consumer is made again. */
  freeze(): void {
    this.#frozen = true;
  }

  /**
   * After a reconnect: makes the consumer again after the last acknowledged message, so a message
   * lost in transit comes again (repeats of held ones are recognised by their stream sequence).
   */
  reopen(): void {
    if (this.#stopped) return;
    this.#frozen = true;
    this.#opening = this.#opening.then(async () => {
      const old = this.#messages;
      this.#messages = undefined;
      old?.stop();
      await this.#open(this.#ledger.floor);
    });
  }

  /** Stops consuming and wakes the taker with undefined; acknowledges nothing more. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#queue = [];
    this.#head = 0;
    this.#last = undefined;
    clearTimeout(this.#ackTimer);
    const taker = this.#taker;
    this.#taker = undefined;
    taker?.(undefined);
    this.#askSub.unsubscribe();
    // A consumer still being set up is stopped by #open itself, which checks after every step.
    this.#messages?.stop();
    this.#messages = undefined;
  }

  /** Something finished: acknowledge soon (the ack covers all that finished meanwhile). */
  scheduleAck(): void {
    if (this.#ackTimer !== undefined || this.#stopped || this.#frozen || this.#ledger.size === 0) return;
    this.#ackTimer = setTimeout(() => this.#ack(), ACK_DELAY_MS);
  }

  // --- internal ---

  async #open(startAfter: number | undefined): Promise<void> {
    const spec = { jobId: this.#host.jobId, task: this.#task, index: this.#index, ackWaitMs: this.#host.ackWaitMs };
    while (!this.#stopped) {
      try {
        const floor = await openInboxConsumer(this.#host.jsm, spec, startAfter);
        if (this.#stopped) return;
        this.#ledger.renew(floor);
        const consumer = await this.#host.js.consumers.get(subjects.stream(spec.jobId), subjects.consumer(spec.task, spec.index));
        const messages = await consumer.consume({ max_messages: PULL_BATCH, callback: (msg) => this.#arrive(msg) });
        if (this.#stopped) {
          messages.stop();
          return;
        }
        this.#messages = messages;
        this.#frozen = false;
        this.scheduleAck();
        return;
      } catch (error) {
        if (this.#stopped || this.#host.nc.isClosed()) return;
        this.#host.report(error, `opening the inbox of ${this.#task}#${this.#index}`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
    }
  }

  #arrive(msg: JsMsg): void {
    if (this.#stopped) return;
    const entry = this.#ledger.admit(msg.seq, msg);
    if (!entry) return; // a repeat of a message acknowledged or held
    const meta = readBatchMeta(msg.headers);
    if (!meta) {
      this.#ledger.finish(entry, 0);
      this.#host.report(new Error(`a message without batch headers on ${msg.subject} (stream sequence ${msg.seq})`), "receiving");
      return;
    }
    let line = this.#lines.get(meta.channel);
    if (!line) this.#lines.set(meta.channel, (line = new ChannelLine()));
    const deliver: RemoteArrival[] = [];
    const drop: RemoteArrival[] = [];
    line.accept({ meta, data: msg.data, entry, line }, deliver, drop);
    if (drop.length > 0) {
      for (const dropped of drop) this.#ledger.finish(dropped.entry, 0);
      this.scheduleAck();
      // A repeat after the end, or of a dead sender: its sender must not wait for it to be taken.
      this.#markDirty(meta.channel);
    }
    for (const arrival of deliver) this.#enqueue(arrival);
  }

  #enqueue(arrival: Arrival): void {
    const taker = this.#taker;
    if (taker) {
      this.#taker = undefined;
      const message = this.#hand(arrival);
      if (message !== undefined) {
        taker(message);
        return;
      }
      this.#taker = taker;
      return;
    }
    this.#queue.push(arrival);
  }

  #next(): ChannelMessage | undefined {
    while (this.#head < this.#queue.length) {
      const arrival = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      const message = this.#hand(arrival);
      if (message !== undefined) return message;
    }
    return undefined;
  }

  // The task takes `arrival`: it becomes the message in processing. Undefined for an undecodable one.
  #hand(arrival: Arrival): ChannelMessage | undefined {
    if (!("meta" in arrival)) {
      this.#last = arrival;
      arrival.onTaken?.();
      return arrival.message;
    }
    const { meta } = arrival;
    let message: ChannelMessage;
    if (meta.eos) {
      message = { input: meta.input, records: [], keys: undefined, eos: true, loop: meta.loop };
    } else {
      try {
        const { records, keys } = decodeBatch(arrival.data);
        message = { input: meta.input, records, keys, eos: false, loop: meta.loop };
      } catch (error) {
        this.#ledger.finish(arrival.entry, 0);
        this.#host.report(error, `decoding a batch for ${this.#task}#${this.#index}`);
        return undefined;
      }
    }
    this.#last = arrival;
    arrival.line.taken(arrival);
    this.#markDirty(meta.channel);
    // Its sender may be waiting for these: waiting for the turn to end would hold it for as long as
    // the messages already received take.
    if (arrival.line.unreported >= this.#host.creditStep) this.#flushCredit();
    return message;
  }

  #finishLast(): void {
    const last = this.#last;
    if (last === undefined) return;
    this.#last = undefined;
    if (!("meta" in last)) return;
    // A channel's end is acknowledged only with the task's own end: a re-placed instance must see
    // it again, or it would wait for ever for a channel whose sender finished long ago.
    if (last.meta.eos) {
      this.#heldEnds.push(last.entry);
      return;
    }
    // Its records may still be in async calls: their outputs are not published yet, so it is not done.
    if (this.work.inFlight > 0) {
      this.#unsettled.push(last.entry);
      return;
    }
    this.#ledger.finish(last.entry, this.#host.tracker.started);
    this.scheduleAck();
  }

  // The task's calls all ended: what it took meanwhile is processed once its outputs are persisted.
  #settle(): void {
    if (this.#unsettled.length === 0) return;
    const started = this.#host.tracker.started;
    for (const entry of this.#unsettled) this.#ledger.finish(entry, started);
    this.#unsettled = [];
    this.scheduleAck();
  }

  #ack(): void {
    this.#ackTimer = undefined;
    if (this.#stopped || this.#frozen) return;
    const entry = this.#ledger.advance(this.#host.tracker.persisted);
    if (!entry) return;
    entry.msg.ack();
    const now = Date.now();
    if (!this.#purging && now - this.#lastPurge >= PURGE_EVERY_MS) {
      this.#lastPurge = now;
      this.#purging = true;
      purgeAcknowledged(this.#host.jsm, this.#host.jobId, this.#task, this.#index, entry.seq + 1)
        .catch((error: unknown) => {
          if (!this.#stopped) this.#host.report(error, `purging the acknowledged batches of ${this.#task}#${this.#index}`);
        })
        .finally(() => (this.#purging = false));
    }
  }

  #markDirty(channel: string): void {
    this.#dirty.add(channel);
    if (this.#creditScheduled) return;
    this.#creditScheduled = true;
    // Coalesces the progress of every message the task takes in one turn of the event loop.
    setImmediate(() => {
      this.#creditScheduled = false;
      this.#flushCredit();
    });
  }

  #flushCredit(): void {
    if (this.#dirty.size === 0 || this.#stopped) return;
    const channels = [...this.#dirty];
    this.#dirty.clear();
    this.#publishProgress(channels);
  }

  #publishProgress(channels: Iterable<string>): void {
    const taken: Array<[string, string, number]> = [];
    const ended: string[] = [];
    for (const channel of channels) {
      const line = this.#lines.get(channel);
      if (!line) continue;
      if (line.ended) ended.push(channel);
      else if (line.progress) taken.push([channel, ...line.progress]);
      line.reported();
    }
    if (taken.length > 0 || ended.length > 0) this.#publishCredit({ type: "progress", taken, ended });
  }

  #onAsk(): void {
    if (!this.#stopped) this.#publishProgress(this.#lines.keys());
  }

  #publishCredit(message: CreditMessage): void {
    try {
      this.#host.nc.publish(this.#creditSubject, encodeCredit(message));
    } catch (error) {
      // A closed connection: the senders' own close releases them.
      if (!this.#host.nc.isClosed()) this.#host.report(error, "publishing progress");
    }
  }
}
