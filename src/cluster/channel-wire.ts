/**
 * How a batch travels on a job's data stream: the body is the codec's encoding of the records and
 * their keys; headers name the channel (edge and sending instance), the sender's incarnation,
 * the batch's place on the channel and what kind of message it is.
 */
import { headers, type MsgHdrs } from "@nats-io/nats-core";
import { decode, encode } from "./codec.js";

/** Where a batch belongs and what it is. */
export interface BatchMeta {
  /** The channel within the receiving instance: `<edge id>.<sending instance>`. */
  channel: string;
  /**
   * The sending transport (one per process): a sender re-placed to another process numbers its
   * channel afresh, so sequence numbers are compared within one incarnation only.
   */
  gen: string;
  /** 1, 2, ... on the channel, per incarnation. */
  seq: number;
  /** Input index of the receiving head operator. */
  input: number;
  eos: boolean;
  loop: boolean;
}

/** One header carries it all (`<channel> <gen> <seq> <input> <flags>`): fewer headers, less to build and parse per batch. */
const BATCH = "Sage-Batch";

/** The channel key of edge `edgeId` from sending instance `from`. */
export function channelKey(edgeId: number, from: number): string {
  return `${edgeId}.${from}`;
}

/**
 * The headers of a batch. No Nats-Msg-Id: a publish retried after a lost PubAck may be stored
 * twice, and the receiver drops the repeat by its sequence number (cheaper than the broker's
 * deduplication of every message).
 */
export function batchHeaders(meta: BatchMeta): MsgHdrs {
  const h = headers();
  const flags = `${meta.eos ? "e" : ""}${meta.loop ? "l" : ""}` || "-";
  h.set(BATCH, `${meta.channel} ${meta.gen} ${meta.seq} ${meta.input} ${flags}`);
  return h;
}

/** The metadata of a received batch; undefined for a message that is not one of ours. */
export function readBatchMeta(h: MsgHdrs | undefined): BatchMeta | undefined {
  const value = h?.get(BATCH);
  if (!value) return undefined;
  const [channel, gen, seqText, inputText, flags] = value.split(" ");
  const seq = Number(seqText);
  const input = Number(inputText);
  if (!channel || !gen || !flags || !Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(input)) return undefined;
  return { channel, gen, seq, input, eos: flags.includes("e"), loop: flags.includes("l") };
}

/** The body of a batch. */
export function encodeBatch(records: unknown[], keys: unknown[] | undefined): Uint8Array {
  return encode({ records, keys });
}

/** Records and keys from a batch body. */
export function decodeBatch(body: Uint8Array): { records: unknown[]; keys: unknown[] | undefined } {
  const { records, keys } = decode<{ records: unknown[]; keys: unknown[] | undefined }>(body);
  if (!Array.isArray(records)) throw new TypeError("a data message without a records array");
  return { records, keys };
}
