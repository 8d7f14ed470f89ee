/**
 * The backpressure protocol between a receiving instance and its senders, as JSON on the
 * instance's credit subject (core NATS: a lost message costs time, not data). Progress values are
 * cumulative, so any later report replaces a lost one; a sender that waits long asks for a report
 * (an empty message on subjects.creditAsk).
 */

/** One message on a credit subject. */
export type CreditMessage =
  /** Per channel and incarnation, the highest sequence the task has taken; `ended` channels never hold a sender again. */
  | { type: "progress"; taken: Array<[channel: string, gen: string, seq: number]>; ended: string[] }
  /** The receiver was aborted: nobody waits for it any more. */
  | { type: "released" };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The wire form of `message`. */
export function encodeCredit(message: CreditMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** A credit message from the wire; undefined for anything else. */
export function decodeCredit(data: Uint8Array): CreditMessage | undefined {
  try {
    const message = JSON.parse(decoder.decode(data)) as CreditMessage;
    if (message.type === "progress") return Array.isArray(message.taken) && Array.isArray(message.ended) ? message : undefined;
    return message.type === "released" ? message : undefined;
  } catch {
    return undefined;
  }
}
