import { monotonicMs } from "./monotonic-clock.js";
/** What a task instance's clock says at one moment: cumulative ms since it started, and its inbox. */
export interface ClockReading {
  elapsedMs: number;
  idleMs: number;
  backPressuredMs: number;
  /** Batches waiting in its inbox, and how many it holds before senders wait. */
  backlog: number;
  capacity: number;
  /** The task has ended: it is neither busy nor idle any more. */
  stopped?: boolean;
}

/** Anything that reads like a task's clock: one here, or the last report of one elsewhere. */
export interface ClockSource {
  read(now?: number): ClockReading;
}

/** An inbox as a clock reads it: how full it is. */
export interface InboxFill {
  readonly size: number;
  readonly capacity: number;
}

/**
 * Where one task instance's time goes: waiting for input (idle), waiting to send downstream
 * (backpressured), and the rest (busy), like Flink's per-task time metrics. The task's loop and
 * router mark the waits; only waits are timed, so a task that never waits pays nothing per batch.
 */
export class TaskClock implements ClockSource {
  readonly #startedAt = monotonicMs();
  #idleMs = 0;
  #backPressuredMs = 0;
  #idleSince = -1;
  #blockedSince = -1;
  #stoppedAt = -1;
  /** The task's inbox, when it reads channels (read at each reading: its fill is live). */
  inbox: { readonly fill?: InboxFill } | undefined;

  /** The task starts waiting for input. */
  idleStart(): void {
    if (this.#idleSince < 0) this.#idleSince = monotonicMs();
  }

  /** Input arrived. */
  idleEnd(): void {
    if (this.#idleSince < 0) return;
    this.#idleMs += monotonicMs() - this.#idleSince;
    this.#idleSince = -1;
  }

  /** Waits on `pending`, a send that asked it to wait, counting the time as backpressure. */
  blockedOn(pending: Promise<void>): Promise<void> {
    if (this.#blockedSince >= 0) return pending; // already counting an overlapping wait
    this.#blockedSince = monotonicMs();
    const unblocked = () => {
      if (this.#blockedSince < 0) return; // counted when the clock stopped
      this.#backPressuredMs += monotonicMs() - this.#blockedSince;
      this.#blockedSince = -1;
    };
    return pending.then(unblocked, (error: unknown) => {
      unblocked();
      throw error;
    });
  }

  /** The task ended: its clock stands still from now on (an ended task is neither busy nor idle). */
  stop(): void {
    if (this.#stoppedAt >= 0) return;
    const now = monotonicMs();
    this.idleEnd();
    if (this.#blockedSince >= 0) this.#backPressuredMs += now - this.#blockedSince;
    this.#blockedSince = -1;
    this.#stoppedAt = now;
  }

  /** The totals so far, waits in progress included. */
  read(now = monotonicMs()): ClockReading {
    if (this.#stoppedAt >= 0) now = this.#stoppedAt;
    const idle = this.#idleMs + (this.#idleSince >= 0 ? now - this.#idleSince : 0);
    const blocked = this.#backPressuredMs + (this.#blockedSince >= 0 ? now - this.#blockedSince : 0);
    const fill = this.inbox?.fill;
    const reading: ClockReading = { elapsedMs: now - this.#startedAt, idleMs: idle, backPressuredMs: blocked, backlog: fill?.size ?? 0, capacity: fill?.capacity ?? 0 };
    if (this.#stoppedAt >= 0) reading.stopped = true;
    return reading;
  }
}

/**
 * A clock of a task instance running elsewhere: what its worker reported last, as it was (its
 * records counts move only with reports too, so rates and time shares come from the same moments).
 */
export class ReportedClock implements ClockSource {
  #reading: ClockReading = { elapsedMs: 0, idleMs: 0, backPressuredMs: 0, backlog: 0, capacity: 0 };

  /** Takes a new report. */
  update(reading: ClockReading): void {
    this.#reading = reading;
  }

  /** The last report. */
  read(): ClockReading {
    return this.#reading;
  }
}
