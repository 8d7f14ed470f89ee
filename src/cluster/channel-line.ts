/**
 * The receiving side of one channel: puts its batches back in sequence order, ends it once, and
 * drops repeats (of a retried publish, or what a re-placed sender sends again after the end). At-least-once allows a batch twice; a channel never ends
 * twice and its end-of-stream never overtakes its batches.
 */
import type { BatchMeta } from "./channel-wire.js";

/** Anything carrying batch metadata. */
export interface Sequenced {
  readonly meta: BatchMeta;
}

/** One channel into an inbox. */
export class ChannelLine<T extends Sequenced> {
  #ended = false;
  /** The sender incarnation whose batches are being delivered. */
  #gen: string | undefined;
  /** The first sequence of the incarnation this inbox saw. */
  #first = 0;
  #next = 0;
  #taken = 0;
  #reported = 0;
  readonly #held = new Map<number, T>();
  /** Incarnations superseded by a newer one (dead senders whose late batches are dropped). */
  readonly #retired = new Set<string>();

  /** End-of-stream was delivered: anything later on this channel is a repeat. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The incarnation being delivered and the highest sequence of it the task has taken. */
  get progress(): [gen: string, seq: number] | undefined {
    return this.#gen === undefined ? undefined : [this.#gen, this.#taken];
  }

  /**
   * Takes in one arrival: appends what may be delivered now to `deliver` (in order) and what will
   * never be delivered to `drop`; anything else is held until the batches before it arrive.
   */
  accept(item: T, deliver: T[], drop: T[]): void {
    const { gen, seq, eos } = item.meta;
    if (this.#ended || this.#retired.has(gen)) {
      drop.push(item);
      return;
    }
    if (gen !== this.#gen) {
      // A re-placed sender: what its dead predecessor still had held comes again from the new one.
      if (this.#gen !== undefined) this.#retired.add(this.#gen);
      for (const held of this.#held.values()) drop.push(held);
      this.#held.clear();
      this.#gen = gen;
      // Earlier batches of this incarnation were processed before this inbox existed (it was re-placed).
      this.#first = seq;
      this.#next = seq;
      this.#taken = seq - 1;
      this.#reported = this.#taken;
    }
    if (seq < this.#next) {
      // From `first` on, every sequence below `next` was delivered: a repeat (a publish retried after
      // a lost PubAck). Below `first` it is one this inbox never saw (its first publish was lost and
      // retried after later ones, or a predecessor processed it): late beats lost.
      (eos || seq >= this.#first ? drop : deliver).push(item);
      return;
    }
    if (seq > this.#next) {
      if (this.#held.has(seq)) drop.push(item);
      else this.#held.set(seq, item);
      return;
    }
    let current: T | undefined = item;
    while (current) {
      deliver.push(current);
      this.#next++;
      if (current.meta.eos) {
        this.#ended = true;
        for (const held of this.#held.values()) drop.push(held);
        this.#held.clear();
        return;
      }
      current = this.#held.get(this.#next);
      if (current) this.#held.delete(this.#next);
    }
  }

  /** Batches taken since the progress was last reported. */
  get unreported(): number {
    return this.#taken - this.#reported;
  }

  /** The progress was reported to the senders. */
  reported(): void {
    this.#reported = this.#taken;
  }

  /** The task took `item` from the inbox. */
  taken(item: T): void {
    if (item.meta.gen === this.#gen && item.meta.seq > this.#taken) this.#taken = item.meta.seq;
  }
}
