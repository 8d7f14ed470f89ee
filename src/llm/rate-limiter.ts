/** Limits of a RateLimiter; each is optional (no limit when absent). */
export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /**
   * How far a caller may run ahead of the smooth schedule, ms (default 20): request k of a run is
   * never admitted before `k x interval - burstMs`.
   */
  burstMs?: number;
  /**
   * How far the schedule may fall behind while callers wait, ms (default 100). A timer that fires
   * late (a busy event loop, a GC pause) delays turns that were due: up to this much of that
   * delay is caught up at once rather than lost, so the long-run rate stays at the limit. Idle
   * time earns nothing (GCRA as usual), so a burst is at most `burstMs + catchUpMs` worth of
   * requests, and only after turns were missed: a tenth of a second's capacity by default, well
   * inside the per-second windows some providers enforce a per-minute limit with.
   */
  catchUpMs?: number;
}

interface Waiter {
  requests: number;
  tokens: number;
  enqueuedAt: number;
  resolve(waitedMs: number): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A smooth limiter of requests and tokens per minute shared by every caller of one service: GCRA
 * (the virtual-scheduling form of a token bucket) in both dimensions, callers admitted in arrival
 * order. Tokens are charged up front (an estimate) and corrected later with `adjustTokens`, so the
 * schedule follows what the API actually counted.
 */
export class RateLimiter {
  readonly #requestMs: number;
  readonly #tokenMs: number;
  readonly #burstMs: number;
  readonly #catchUpMs: number;
  /** Theoretical arrival times (performance.now() ms): when the schedule is next free. */
  #requestTat = 0;
  #tokenTat = 0;
  #pausedUntil = 0;
  readonly #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: RateLimits = {}) {
    this.#requestMs = limits.requestsPerMinute ? 60_000 / limits.requestsPerMinute : 0;
    this.#tokenMs = limits.tokensPerMinute ? 60_000 / limits.tokensPerMinute : 0;
    this.#burstMs = limits.burstMs ?? 20;
    this.#catchUpMs = limits.catchUpMs ?? 100;
  }

  /** Callers waiting for their turn. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Waits until `requests` requests and `tokens` tokens fit the limits (and any pause is over),
   * then charges them; resolves with the ms waited. Undefined (no wait at all) on the fast path.
   */
  acquire(requests: number, tokens: number, signal?: AbortSignal): Promise<number> | undefined {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = performance.now();
    if (this.#queue.length === 0 && this.#admissible(now, tokens)) {
      this.#charge(now, requests, tokens);
      return undefined;
    }
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { requests, tokens, enqueuedAt: now, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const at = this.#queue.indexOf(waiter);
          if (at < 0) return;
          this.#queue.splice(at, 1);
          reject(signal.reason);
          if (at === 0) this.#pump();
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      if (this.#queue.length === 1) this.#pump();
    });
  }

  /** Corrects the tokens charged for a request once its real count is known (negative gives back). */
  adjustTokens(delta: number): void {
    // A NaN would make the schedule NaN, and every later acquire wait forever.
    if (this.#tokenMs === 0 || delta === 0 || !Number.isFinite(delta)) return;
    this.#tokenTat += delta * this.#tokenMs;
    if (delta < 0 && this.#queue.length > 0) this.#pump();
  }

  /** Holds every caller until `atMs` (performance.now() time), e.g. when a server answered 429 with Retry-After. */
  pauseUntil(atMs: number): void {
    if (atMs <= this.#pausedUntil) return;
    this.#pausedUntil = atMs;
  }

  /** Rejects every waiting caller with `error` and stops the timer. */
  close(error: Error): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of this.#queue.splice(0)) {
      if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.reject(error);
    }
  }

  #admissible(now: number, tokens: number): boolean {
    return now >= this.#pausedUntil && now >= this.#requestTat - this.#burstMs && (tokens === 0 || now >= this.#tokenTat - this.#burstMs);
  }

  /**
   * Books a request on the schedules from `since` (or from where they stand, if later): `now` for
   * a caller that found the schedule free (unused capacity is not saved up); for a waiter, the
   * moment it could have gone, so the turn a late timer delayed is not lost.
   */
  #charge(since: number, requests: number, tokens: number): void {
    if (this.#requestMs > 0) this.#requestTat = Math.max(this.#requestTat, since) + requests * this.#requestMs;
    if (this.#tokenMs > 0 && tokens > 0) this.#tokenTat = Math.max(this.#tokenTat, since) + tokens * this.#tokenMs;
  }

  // Admits waiters in order while they fit; otherwise sleeps until the head's turn.
  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const now = performance.now();
      if (!this.#admissible(now, head.tokens)) {
        const due = Math.max(this.#pausedUntil, this.#requestTat - this.#burstMs, head.tokens === 0 ? 0 : this.#tokenTat - this.#burstMs);
        this.#timer = setTimeout(() => this.#pump(), Math.max(1, Math.ceil(due - now)));
        return;
      }
      this.#queue.shift();
      if (head.onAbort) head.signal?.removeEventListener("abort", head.onAbort);
      // Nothing before it arrived or before a pause ended counts, and at most catchUpMs of lateness.
      this.#charge(Math.max(head.enqueuedAt, this.#pausedUntil, now - this.#catchUpMs), head.requests, head.tokens);
      head.resolve(now - head.enqueuedAt);
    }
  }
}
