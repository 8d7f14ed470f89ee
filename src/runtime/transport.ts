import type { InboxFill } from "./task-clock.js";
import type { EdgeSpec, TaskId } from "../graph/execution-graph.js";

/** One message on a channel into a task instance: a batch of records, or the channel's end-of-stream. */
export interface ChannelMessage {
  /** Input index of the receiving task's head operator. */
  input: number;
  records: unknown[];
  /** Partition keys, aligned with `records`, when the edge is keyed. */
  keys: unknown[] | undefined;
  /** The sending instance has no more records for this channel. */
  eos: boolean;
  /** Travelled on an edge inside a feedback loop, so it counts as in-flight loop work. */
  loop: boolean;
}

/** The sending end of one channel (edge × sending instance × receiving instance). */
export interface ChannelSender {
  /** Sends a batch; a returned promise means "wait before sending more" (backpressure). */
  send(records: unknown[], keys: unknown[] | undefined): void | Promise<void>;
  /** Sends end-of-stream; feedback channels carry none. */
  end(): void | Promise<void>;
}

/** The receiving end shared by all channels into one task instance. */
export interface Inbox {
  /** The next message if one is waiting. */
  poll(): ChannelMessage | undefined;
  /** The next message, waiting for it; `undefined` once the inbox is aborted. */
  take(): Promise<ChannelMessage | undefined>;
  /** Drops queued and future messages and wakes every waiter. */
  abort(): void;
  /** How full it is, for status (batches queued and the capacity before senders wait), when it can tell. */
  readonly fill?: InboxFill;
}

/**
 * How batches move between task instances. The runtime is written against this interface only;
 * the in-process and NATS implementations pass one shared conformance suite.
 */
export interface Transport {
  /** The inbox of instance `index` of `task`. */
  inbox(task: TaskId, index: number): Inbox;
  /** A sender on the channel of `edge` from instance `from` to instance `to`. */
  sender(edge: EdgeSpec, from: number, to: number): ChannelSender;
  /** Releases everything the transport holds. */
  close(): Promise<void>;
}
