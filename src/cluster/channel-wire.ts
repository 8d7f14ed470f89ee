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

const CHANNEL = "Sage-Channel";
const GEN = "Sage-Gen";
const SEQ = "Sage-Seq";
const INPUT = "Sage-Input";
const FLAGS = "Sage-Flags";

/** The channel key of edge `edgeId` from sending instance `from`. */
export function channelKey(edgeId: number, from: number): string {
  return `${edgeId}.${from}`;
}

/** The headers carrying `meta`. */
export function batchHeaders(meta: BatchMeta): MsgHdrs {
  const h = headers();
  h.set(CHANNEL, meta.channel);
  h.set(GEN, meta.gen);
  h.set(SEQ, String(meta.seq));
  h.set(INPUT, String(meta.input));
  if (meta.eos || meta.loop) h.set(FLAGS, `${meta.eos ? "e" : ""}${meta.loop ? "l" : ""}`);
  return h;
}

/** The metadata of a received batch; undefined for a message that is not one of ours. */
export function readBatchMeta(h: MsgHdrs | undefined): BatchMeta | undefined {
  if (!h) return undefined;
  const channel = h.get(CHANNEL);
  const gen = h.get(GEN);
  const seq = Number(h.get(SEQ));
  const input = Number(h.get(INPUT));
  if (!channel || !gen || !Number.isSafeInteger(seq) || seq < 1 || !Number.isSafeInteger(input)) return undefined;
  const flags = h.get(FLAGS);
  return { channel, gen, seq, input, eos: flags.includes("e"), loop: flags.includes("l") };
}

/** The message id JetStream deduplicates a retried publish to `subject` by. */
export function batchMsgId(subject: string, meta: BatchMeta): string {
  return `${meta.gen}.${meta.channel}.${meta.seq}@${subject}`;
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
