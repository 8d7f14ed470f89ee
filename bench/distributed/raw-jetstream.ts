/**
 * The raw nats.js side of the distributed benchmarks: a keyed exchange over JetStream written by
 * hand as a careful user would. One stream, one durable pull consumer per partition with
 * AckPolicy.All, publishes with a bounded number of PubAcks in flight, an end marker (a header)
 * per partition.
 */
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient } from "@nats-io/jetstream";

/** The stream and consumers of one raw exchange. */
export interface RawExchange {
  readonly stream: string;
  /** The subject of partition `index`. */
  subject(index: number): string;
  /** Deletes the stream and its consumers. */
  remove(): Promise<void>;
}

/** Creates the stream of run `run` and a durable consumer (`p<index>`) per partition. */
export async function createRawExchange(nc: NatsConnection, run: string, partitions: number): Promise<RawExchange> {
  const jsm = await jetstreamManager(nc);
  const stream = rawStream(run);
  await jsm.streams.add({ name: stream, subjects: [`raw.${run}.>`], storage: StorageType.File, retention: RetentionPolicy.Limits });
  for (let i = 0; i < partitions; i++) {
    await jsm.consumers.add(stream, { durable_name: `p${i}`, filter_subject: `raw.${run}.${i}`, ack_policy: AckPolicy.All });
  }
  return {
    stream,
    subject: (index) => `raw.${run}.${index}`,
    remove: async () => void (await jsm.streams.delete(stream)),
  };
}

/** The stream name of run `run`. */
export function rawStream(run: string): string {
  return `RAW_${run}`;
}

/** Publishes with at most `window` PubAcks outstanding; counts how long it waited for them. */
export class RawPublisher {
  waitedMs = 0;
  readonly #js: JetStreamClient;
  readonly #window: number;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(nc: NatsConnection, window = 128) {
    this.#js = jetstream(nc);
    this.#window = window;
  }

  /** Publishes; the promise (when there is one) means "wait before publishing more". */
  publish(subject: string, body: Uint8Array, eos = false): void | Promise<void> {
    const options = eos ? { headers: eosHeaders() } : undefined;
    const p = this.#js.publish(subject, body, options).finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
    if (this.#inFlight.size >= this.#window) return this.#wait();
  }

  /** Sends the end marker of every partition and waits for all PubAcks. */
  async end(exchange: RawExchange, partitions: number): Promise<void> {
    for (let i = 0; i < partitions; i++) await this.publish(exchange.subject(i), new Uint8Array(), true);
    await Promise.all(this.#inFlight);
  }

  async #wait(): Promise<void> {
    const since = performance.now();
    await Promise.race(this.#inFlight);
    this.waitedMs += performance.now() - since;
  }
}

/**
 * Consumes partition `index` of run `run`, handing each batch body to `onBatch` and acknowledging
 * it; `ready` resolves once it consumes, `done` at the end marker.
 */
export function consumeRaw(nc: NatsConnection, run: string, index: number, onBatch: (body: Uint8Array) => void): { ready: Promise<void>; done: Promise<void> } {
  let ended!: () => void;
  const done = new Promise<void>((resolve) => (ended = resolve));
  const ready = (async () => {
    const consumer = await jetstream(nc).consumers.get(rawStream(run), `p${index}`);
    await consumer.consume({
      max_messages: 128,
      callback: (msg) => {
        if (msg.headers?.get("eos")) {
          msg.ack();
          ended();
          return;
        }
        onBatch(msg.data);
        msg.ack();
      },
    });
  })();
  return { ready, done };
}

function eosHeaders() {
  const h = headers();
  h.set("eos", "1");
  return h;
}
