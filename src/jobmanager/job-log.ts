/** Limits of what a JobManager keeps of each job's log. */
export interface LogLimits {
  /** Longest line kept; the rest of a longer line is dropped and a marker says how much (default 16 KiB). */
  maxLineBytes: number;
  /** Bytes kept of a job's log, live and stored; the oldest lines roll off (default 8 MiB). */
  maxBytes: number;
  /** Lines kept of a job's log (default 50,000; the bytes limit bounds the memory). */
  maxLines: number;
}

/** The defaults of {@link LogLimits}. */
export const DEFAULT_LOG_LIMITS: LogLimits = { maxLineBytes: 16 * 1024, maxBytes: 8 * 1024 * 1024, maxLines: 50_000 };

/**
 * The kept tail of one job's log, bounded by lines and by bytes: the same tail is kept live and
 * stored, so a job's log reads the same after it ends. Lines are numbered from the job's start.
 */
export class JobLog {
  // Lines before #head are dropped; the arrays are compacted now and then, not on every line.
  #lines: string[] = [];
  #bytes: number[] = [];
  #head = 0;
  /** Lines dropped by earlier compactions. */
  #dropped = 0;
  #total = 0;

  constructor(readonly limits: LogLimits) {}

  /** Appends a line (already cut to the line limit); answers its number. */
  append(line: string): number {
    const number = this.next;
    const size = Buffer.byteLength(line, "utf8");
    this.#lines.push(line);
    this.#bytes.push(size);
    this.#total += size;
    while (this.#count() > 1 && (this.#count() > this.limits.maxLines || this.#total > this.limits.maxBytes)) {
      this.#total -= this.#bytes[this.#head]!;
      this.#lines[this.#head] = "";
      this.#head++;
    }
    if (this.#head > 1024 && this.#head > this.#count()) this.#compact();
    return number;
  }

  /** The kept lines. */
  get lines(): string[] {
    this.#compact();
    return this.#lines;
  }

  /** The number of the first kept line. */
  get base(): number {
    return this.#dropped + this.#head;
  }

  /** The number the next line will get. */
  get next(): number {
    return this.base + this.#count();
  }

  #count(): number {
    return this.#lines.length - this.#head;
  }

  #compact(): void {
    if (this.#head === 0) return;
    this.#lines = this.#lines.slice(this.#head);
    this.#bytes = this.#bytes.slice(this.#head);
    this.#dropped += this.#head;
    this.#head = 0;
  }
}
