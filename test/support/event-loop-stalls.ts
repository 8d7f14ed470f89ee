/**
 * Stalls of this process's event loop, for tests that time a schedule against the wall clock.
 *
 * A loaded machine deschedules a process (a GC pause or a busy neighbour does the same): for that
 * long no timer fires, whatever the code under test does. A schedule that catches up at most
 * `allowanceMs` of a late timer (the RateLimiter's catchUpMs) then loses what the stall lasted
 * beyond it, by design; a test of its rate must not count that loss against it.
 */
export interface EventLoopWatch {
  /**
   * Sum over the stalls seen (between `fromMs` and `toMs`, performance.now() ms) of what each
   * lasted beyond `allowanceMs`: wall-clock time a schedule catching up `allowanceMs` cannot make up.
   */
  lostMs(allowanceMs: number, fromMs?: number, toMs?: number): number;
  /** The longest gap between two turns of the loop, ms. */
  longestMs(): number;
  stop(): void;
}

/** Watches the event loop with a 1 ms interval timer, noting how long each of its gaps lasted. */
export function watchEventLoop(): EventLoopWatch {
  const gaps: Array<{ end: number; ms: number }> = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > 5) gaps.push({ end: now, ms: now - last });
    last = now;
  }, 1);
  return {
    lostMs(allowanceMs, fromMs = -Infinity, toMs = Infinity) {
      let lost = 0;
      for (const gap of gaps) {
        // The part of the gap inside [fromMs, toMs], beyond the allowance.
        const inside = Math.min(gap.end, toMs) - Math.max(gap.end - gap.ms, fromMs);
        if (inside > allowanceMs) lost += inside - allowanceMs;
      }
      return lost;
    },
    longestMs: () => Math.max(0, ...gaps.map((gap) => gap.ms)),
    stop: () => clearInterval(timer),
  };
}
