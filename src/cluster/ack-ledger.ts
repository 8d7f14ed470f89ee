/**
 * The messages an inbox has received and not yet acknowledged, in stream order. With AckPolicy.All
 * one ack covers every earlier message of the consumer, so the ack may only go as far as the first
 * message that is not finished: processed by the task (or dropped as a repeat) and with every
 * output published before that persisted.
 */

/** One received message. */
export interface LedgerEntry<M> {
  /** Its stream sequence. */
  readonly seq: number;
  /** Its latest delivery: an ack must go through the consumer that exists now. */
  msg: M;
  /** The consumer generation `msg` came from. */
  epoch: number;
  /** Processed by the task, or dropped. */
  done: boolean;
  /** The publish number that must be persisted before this message may be acknowledged. */
  needs: number;
}

/** The unacknowledged messages of one inbox. */
export class AckLedger<M> {
  #entries: Array<LedgerEntry<M>> = [];
  #head = 0;
  #floor: number;
  #highest: number;
  #epoch = 0;

  /** `floor`: every message up to this stream sequence is already acknowledged. */
  constructor(floor = 0) {
    this.#floor = floor;
    this.#highest = floor;
  }

  /** The highest stream sequence acknowledged (or known processed when the consumer was made). */
  get floor(): number {
    return this.#floor;
  }

  /** Unacknowledged messages held. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /**
   * A new consumer was made starting after `floor` (its deliveries carry a new epoch, and nothing
   * is acknowledged through an older one).
   */
  renew(floor: number): void {
    this.#epoch++;
    if (floor > this.#floor) this.#floor = floor;
    if (this.#floor > this.#highest) this.#highest = this.#floor;
  }

  /** Records a delivery; undefined when it repeats one already acknowledged or held. */
  admit(seq: number, msg: M): LedgerEntry<M> | undefined {
    if (seq <= this.#floor) return undefined;
    const entries = this.#entries;
    if (seq > this.#highest) {
      this.#highest = seq;
      return this.#push(entries.length, seq, msg);
    }
    // A redelivery, or a message that was lost in transit and comes again after newer ones.
    let lo = this.#head;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    const found = entries[lo];
    if (found && found.seq === seq) {
      found.msg = msg;
      found.epoch = this.#epoch;
      return undefined;
    }
    return this.#push(lo, seq, msg);
  }

  /** `entry` is finished once publish `needs` is persisted. */
  finish(entry: LedgerEntry<M>, needs: number): void {
    entry.done = true;
    entry.needs = needs;
  }

  /**
   * Moves the floor over the finished messages at the front (publishes up to `persisted` are
   * persisted) and returns the last of them, the one to acknowledge; undefined when none moved.
   */
  advance(persisted: number): LedgerEntry<M> | undefined {
    const entries = this.#entries;
    let last: LedgerEntry<M> | undefined;
    while (this.#head < entries.length) {
      const entry = entries[this.#head]!;
      if (!entry.done || entry.needs > persisted || entry.epoch !== this.#epoch) break;
      last = entry;
      this.#head++;
    }
    if (!last) return undefined;
    this.#floor = last.seq;
    if (this.#head === entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head);
      this.#head = 0;
    }
    return last;
  }

  #push(at: number, seq: number, msg: M): LedgerEntry<M> {
    const entry: LedgerEntry<M> = { seq, msg, epoch: this.#epoch, done: false, needs: 0 };
    if (at === this.#entries.length) this.#entries.push(entry);
    else this.#entries.splice(at, 0, entry);
    return entry;
  }
}
