import { MAX_TIMER_MS } from "../api/validate-options.js";

/** Whether `value` is a promise-like; the only test the per-record path makes. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/** Resolves after `ms`; the timer never keeps the process alive and is cleared by `signal`. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      signal?.removeEventListener("abort", done);
      clearTimeout(timer);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Lets other work on the event loop run (timers, I/O, other tasks). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The longest delay a Node timer honours; defined with the option validators that enforce it. */
export { MAX_TIMER_MS };

/** `ms` capped to what a timer can wait, so a huge limit means "practically never", not "now". */
export function timerMs(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}
