import type { DriverReport } from "./protocol.js";

/** What a job's host processes on one worker may send to the driver each second; the rest is counted. */
const BYTES_PER_SECOND = 256 * 1024;

/**
 * Sends what a job's code prints on a worker to the job's driver, as Ray shows its workers'
 * output in the driver: a line at a time, bounded in bytes per second, so a job that floods its
 * output cannot flood the broker. Lines over the bound are dropped and their number said once
 * the next second starts, or at the end of the host's output (finish()).
 */
export class OutputForwarder {
  #windowStart = 0;
  #bytes = 0;
  #dropped = 0;

  constructor(
    private readonly publish: (report: DriverReport) => void,
    private readonly worker: string,
    /** What the worker's own copy of a line starts with, left out of the driver's. */
    private readonly prefix: string,
  ) {}

  /** Forwards one line the host printed. */
  line(text: string, stream: "out" | "err"): void {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#bytes = 0;
      this.#sayDropped();
    }
    const line = text.startsWith(this.prefix) ? text.slice(this.prefix.length) : text;
    this.#bytes += line.length;
    if (this.#bytes > BYTES_PER_SECOND) {
      this.#dropped++;
      return;
    }
    this.publish({ type: "output", worker: this.worker, stream, line });
  }

  /** The host's output has ended: says how many of its last lines were not forwarded, if any. */
  finish(): void {
    this.#sayDropped();
  }

  #sayDropped(): void {
    if (this.#dropped === 0) return;
    this.publish({ type: "output", worker: this.worker, stream: "err", line: `[sage] ${this.#dropped} line(s) of the job's output on worker '${this.worker}' were not forwarded (over ${BYTES_PER_SECOND} bytes/s); the worker's own output has them` });
    this.#dropped = 0;
  }
}
