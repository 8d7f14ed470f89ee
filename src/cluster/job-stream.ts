/**
 * The JetStream side of a job's data plane: one stream per job holding every channel's batches,
 * and one durable pull consumer per receiving task instance.
 */
import { nanos, type NatsConnection } from "@nats-io/nats-core";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { jetstreamManager } from "@nats-io/jetstream";
import { subjects } from "./subjects.js";

/** "stream name already in use": JetStreamApiCodes lacks it. */
const STREAM_NAME_EXIST = 10058;

/** Creates the job's data stream (file storage, limits retention); an existing one is kept. */
export async function ensureJobStream(nc: NatsConnection, jobId: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const name = subjects.stream(jobId);
  try {
    await jsm.streams.add({
      name,
      subjects: [subjects.dataAll(jobId)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
    });
  } catch (error) {
    // Created by an earlier call (a driver that restarted its setup): the stream is usable as it is.
    if (!isApiError(error, STREAM_NAME_EXIST)) throw error;
  }
}

/** Removes the job's data stream and its consumers; a stream already gone is no error. */
export async function deleteJobStream(nc: NatsConnection, jobId: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.delete(subjects.stream(jobId));
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
  }
}

/** Where an inbox's consumer is and how it acknowledges. */
export interface InboxConsumerSpec {
  jobId: string;
  task: string;
  index: number;
  /** A delivered message not acknowledged within this time is delivered again. */
  ackWaitMs: number;
}

/**
 * (Re)creates the durable consumer of one task instance so that it delivers, in stream order,
 * every message after `startAfter`; without it, after the ack floor of the consumer that exists
 * (an instance re-placed from a dead process) or from the start. Returns the sequence it starts
 * after: everything up to it was processed.
 *
 * The old durable is deleted rather than reused: its messages delivered to a dead process would
 * come again only after the ack wait, behind newer ones, out of order.
 */
export async function openInboxConsumer(jsm: JetStreamManager, spec: InboxConsumerSpec, startAfter?: number): Promise<number> {
  const stream = subjects.stream(spec.jobId);
  const durable = subjects.consumer(spec.task, spec.index);
  let floor = startAfter;
  try {
    const info = await jsm.consumers.info(stream, durable);
    floor ??= info.ack_floor.stream_seq;
    await jsm.consumers.delete(stream, durable);
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
  }
  floor ??= 0;
  await jsm.consumers.add(stream, {
    durable_name: durable,
    filter_subject: subjects.data(spec.jobId, spec.task, spec.index),
    ack_policy: AckPolicy.All,
    ack_wait: nanos(spec.ackWaitMs),
    // The senders' credit bounds what is outstanding; the consumer must not add a second limit.
    max_ack_pending: -1,
    ...(floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.All }),
  });
  return floor;
}

/** Drops the messages of one inbox's subject below `before` (they are acknowledged). */
export async function purgeAcknowledged(jsm: JetStreamManager, jobId: string, task: string, index: number, before: number): Promise<void> {
  await jsm.streams.purge(subjects.stream(jobId), { filter: subjects.data(jobId, task, index), seq: before });
}

/** Whether `error` is the JetStream API error `code`. */
export function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}
