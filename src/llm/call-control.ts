import { APIUserAbortError } from "openai/core/error";
import { CALL_ABANDONED } from "../runtime/service-host.js";

/**
 * What ends one service call early: its caller's own signal, its caller giving up (the service
 * host's CALL_ABANDONED hook, when a proxy's time limit expired), or the service stopping. It
 * goes to the call's HTTP requests and waits as their signal, so any of these closes the
 * connection and ends the waits.
 * @remarks It is its own signal, with just what undici, the rate limiter and Node's timers use
 * of an AbortSignal (`aborted`, `reason`, add/removeEventListener): on a request path that runs
 * thousands of calls a second, an AbortController per call and undici's listener on its
 * EventTarget cost a fifth of the path's CPU.
 */
export class CallControl {
  aborted = false;
  reason: unknown = undefined;
  #listeners: Array<() => void> | undefined;
  /** Follows the caller's own signal, when it gave one (see release). */
  readonly #external: AbortSignal | undefined;
  readonly #onExternal: (() => void) | undefined;

  constructor(external?: AbortSignal) {
    if (external === undefined) return;
    if (external.aborted) {
      this.abort(new APIUserAbortError());
      return;
    }
    // A signal that follows the caller's: one caller's signal may cover thousands of calls at
    // once, and a listener each on it would warn of a leak.
    this.#external = AbortSignal.any([external]);
    this.#onExternal = () => this.abort(new APIUserAbortError());
    this.#external.addEventListener("abort", this.#onExternal, { once: true });
  }

  /** This control as the AbortSignal its requests and waits take. */
  get signal(): AbortSignal {
    return this as unknown as AbortSignal;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    if (!this.aborted) (this.#listeners ??= []).push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const at = this.#listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.#listeners!.splice(at, 1);
  }

  /** Cancels the call with `reason` (an APIUserAbortError saying why); later calls do nothing. */
  abort(reason: APIUserAbortError): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }

  /** The call ended: stop following the caller's signal. */
  release(): void {
    if (this.#onExternal) this.#external!.removeEventListener("abort", this.#onExternal);
  }
}

/**
 * Marks `promise` so that the service host, when the caller stops waiting for it, calls
 * `abandon` (see CALL_ABANDONED); returns the same promise.
 */
export function abandonable<T>(promise: Promise<T>, abandon: () => void): Promise<T> {
  (promise as unknown as Record<symbol, unknown>)[CALL_ABANDONED] = abandon;
  return promise;
}

/**
 * Settles like `work`, or rejects with the signal's reason as soon as `signal` fires: a caller
 * sharing a request with others stops waiting for it without cancelling it for them.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** The error a cancelled call rejects with: the signal's APIUserAbortError, or a plain one. */
export function abortReason(signal: AbortSignal): APIUserAbortError {
  return signal.reason instanceof APIUserAbortError ? signal.reason : new APIUserAbortError();
}
