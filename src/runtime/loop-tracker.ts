import type { WorkCounter } from "./metrics.js";

/**
 * Decides when a feedback loop is over: every channel entering the loop from outside has
 * delivered its end-of-stream AND no batch or async call is in flight inside the loop. Then it
 * closes the loop by sending the loop heads a synthetic end-of-stream.
 */
export class LoopTracker implements WorkCounter {
  #inFlight = 0;
  #outsideOpen: number;
  #closed = false;

  constructor(
    outsideChannels: number,
    private readonly closeLoop: () => void,
  ) {
    this.#outsideOpen = outsideChannels;
  }

  /** Work entered the loop (a batch sent on a loop edge, an async call started). */
  acquire(count = 1): void {
    this.#inFlight += count;
  }

  /** Work left the loop. */
  release(count = 1): void {
    this.#inFlight -= count;
    this.#check();
  }

  /** A channel from outside the loop delivered its end-of-stream. */
  outsideEnded(): void {
    this.#outsideOpen--;
    this.#check();
  }

  #check(): void {
    if (this.#closed || this.#outsideOpen > 0 || this.#inFlight > 0) return;
    this.#closed = true;
    this.closeLoop();
  }
}
