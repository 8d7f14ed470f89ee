/**
 * The channel between a supervisor and its job process: two pipes of the job process (reports
 * out, supervisor messages in) carrying length-prefixed JSON frames. Unlike Node's IPC channel,
 * whose receiver buffers a message of any size, the reader here holds at most one frame of the
 * size it allows: a larger frame is counted and skipped, never kept.
 */
import type { Readable, Writable } from "node:stream";

/** The job process's descriptor that carries its reports to the supervisor. */
export const REPORTS_FD = 3;
/** The job process's descriptor that carries the supervisor's messages to it. */
export const CONTROL_FD = 4;
/** The largest frame a supervisor reads from a job process unless configured otherwise (4 MiB). */
export const DEFAULT_MAX_REPORT_BYTES = 4 * 1024 * 1024;

// A frame: the byte length of its JSON text (32-bit unsigned, big-endian), then that text.
const HEADER_BYTES = 4;
const MAX_FRAME_BYTES = 0xffff_ffff;

/** A frame a reader did not deliver: too large (skipped unread) or not JSON. */
export type FrameProblem = { kind: "oversized"; bytes: number; limit: number } | { kind: "malformed"; reason: string };

/** Encodes one message as a frame. */
export function encodeFrame(message: unknown): Buffer {
  const text = JSON.stringify(message) ?? "null";
  const length = Buffer.byteLength(text, "utf8");
  if (length > MAX_FRAME_BYTES) throw new RangeError(`a message of ${length} bytes is too large for a frame`);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.write(text, HEADER_BYTES, "utf8");
  return frame;
}

/**
 * Decodes frames from the chunks of a byte stream, however the chunks cut them. Memory held is
 * bounded by `maxFrameBytes` whatever the stream carries.
 */
export class FrameReader {
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerFill = 0;
  #body: Buffer | undefined;
  #bodyFill = 0;
  /** Bytes of an oversized frame still to skip. */
  #skip = 0;

  constructor(
    readonly maxFrameBytes: number,
    readonly onMessage: (message: unknown) => void,
    readonly onProblem: (problem: FrameProblem) => void,
  ) {}

  /** Takes the next chunk of the stream; delivers every frame it completes. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, chunk.length - at);
        this.#skip -= skipped;
        at += skipped;
      } else if (this.#body === undefined) {
        const taken = Math.min(HEADER_BYTES - this.#headerFill, chunk.length - at);
        chunk.copy(this.#header, this.#headerFill, at, at + taken);
        this.#headerFill += taken;
        at += taken;
        if (this.#headerFill === HEADER_BYTES) this.#startFrame(this.#header.readUInt32BE(0));
      } else {
        const taken = Math.min(this.#body.length - this.#bodyFill, chunk.length - at);
        chunk.copy(this.#body, this.#bodyFill, at, at + taken);
        this.#bodyFill += taken;
        at += taken;
        if (this.#bodyFill === this.#body.length) this.#deliver();
      }
    }
  }

  #startFrame(length: number): void {
    this.#headerFill = 0;
    if (length > this.maxFrameBytes) {
      this.#skip = length;
      this.onProblem({ kind: "oversized", bytes: length, limit: this.maxFrameBytes });
      return;
    }
    this.#body = Buffer.allocUnsafe(length);
    this.#bodyFill = 0;
    if (length === 0) this.#deliver();
  }

  #deliver(): void {
    const body = this.#body!;
    this.#body = undefined;
    let message: unknown;
    try {
      message = JSON.parse(body.toString("utf8"));
    } catch (error) {
      this.onProblem({ kind: "malformed", reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.onMessage(message);
  }
}

/** Delivers the frames `stream` carries; a read error ends the stream like its end does. */
export function readFrames(stream: Readable, maxFrameBytes: number, onMessage: (message: unknown) => void, onProblem: (problem: FrameProblem) => void): void {
  const reader = new FrameReader(maxFrameBytes, onMessage, onProblem);
  stream.on("data", (chunk: Buffer) => reader.push(chunk));
  // The other side may go at any moment (a job killed, a supervisor gone): that is no error here.
  stream.on("error", () => {});
}

/** Writes messages as frames to a stream, in order; a stream that has gone takes nothing. */
export class FrameWriter {
  #written: Promise<void> = Promise.resolve();

  constructor(readonly stream: Writable) {
    // A peer that went away fails the writes; whoever cares notices it on its own side of the channel.
    stream.on("error", () => {});
  }

  /** Sends one message (dropped once the stream has ended or failed). */
  write(message: unknown): void {
    if (!this.stream.writable) return;
    const frame = encodeFrame(message);
    this.#written = new Promise((resolve) => this.stream.write(frame, () => resolve()));
  }

  /** Resolves once every frame written so far was handed to the OS (or the stream failed). */
  flush(): Promise<void> {
    return this.#written;
  }
}
