import { APIUserAbortError } from "openai/core/error";
import { CALL_ABANDONED } from "../runtime/service-host.js";

/**
 * What ends one service call early: its caller's own signal, its caller giving up (the service
 * host's CALL_ABANDONED hook, when a proxy's time limit expired), or the service stopping. Its
 * signal goes to the call's HTTP requests and waits, so any of these closes the connection.
 */
export class CallControl {
  readonly #controller = new AbortController();
  /** Fires when the call is cancelled, whatever the reason. */
  readonly signal: AbortSignal;

  constructor(external?: AbortSignal) {
    // AbortSignal.any rather than a listener: one caller's signal may cover thousands of calls.
    this.signal = external ? AbortSignal.any([this.#controller.signal, external]) : this.#controller.signal;
  }

  /** Cancels the call with `reason` (an APIUserAbortError saying why). */
  abort(reason: APIUserAbortError): void {
    this.#controller.abort(reason);
  }
}

/**
 * Marks `promise` so that the service host, when the caller stops waiting for it, calls
 * `abandon` (see CALL_ABANDONED); returns the same promise.
 */
export function abandonable<T>(promise: Promise<T>, abandon: () => void): Promise<T> {
  Object.defineProperty(promise, CALL_ABANDONED, { value: abandon });
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
