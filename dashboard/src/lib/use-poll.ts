import { useEffect, useRef, useState } from "preact/hooks";

/** What {@link usePoll} holds: the last value, the last error, and a way to ask again now. */
export interface Polled<T> {
  value: T | undefined;
  error: Error | undefined;
  refresh(): void;
}

/**
 * Calls `load` now and every `intervalMs` (0: once) while `enabled`, never two calls at once,
 * keeping the last answer; a failed call keeps the value it had and reports the error.
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, deps: unknown[], enabled = true): Polled<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let timer: number | undefined;
    const run = async () => {
      try {
        const next = await loadRef.current();
        if (stopped) return;
        setValue(next);
        setError(undefined);
      } catch (failure) {
        if (!stopped) setError(failure instanceof Error ? failure : new Error(String(failure)));
      }
      if (!stopped && intervalMs > 0) timer = window.setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [...deps, enabled, intervalMs, tick]);
  return { value, error, refresh: () => setTick((n) => n + 1) };
}
