/**
 * What a remote service call looks like on the wire (encoded with the codec): the request a
 * caller sends on subjects.service(job, name), the reply the endpoint answers with, and how an
 * error crosses in between and is rebuilt as the same error class on the caller's side.
 */
import { ServiceCallError, ServiceCallTimeoutError, ServiceNotFoundError, messageOf } from "../api/errors.js";

/** One call, as the caller sends it. */
export interface ServiceRequest {
  method: string;
  args: unknown[];
  /** What is left of the call's time limit when it was sent. */
  timeoutMs: number;
  /**
   * Set on a call sent again after its instance was lost: the call's id. The endpoint then says
   * ACCEPTED at once (so a copy swallowed by a dead instance's subscription is sent again) and
   * runs one copy of that id at a time.
   */
  ack?: string;
}

/**
 * The endpoint's answer: the method's value, or an error; `accepted` (only for a request with
 * `ack`) comes first and says an instance has the call.
 */
export type ServiceReply = { value: unknown; error?: undefined; accepted?: undefined } | { error: WireError; accepted?: undefined } | { accepted: true };

/** An error of a remote call, as plain data. */
export interface WireError {
  /** not-found: no such method; call: the method (or the endpoint) failed; timeout: the call's limit ended there. */
  kind: "not-found" | "call" | "timeout";
  service: string;
  method: string;
  /** The original error's message, name and stack (for kind call: the method's own error, not a wrapper). */
  message: string;
  name: string;
  stack?: string;
  /** The original error's `code`, when it had a string one (ENOENT, E_...). */
  code?: string;
  /** For not-found: the methods the service has. */
  methods?: string[];
}

/** The wire form of what `host.call()` threw or rejected with. */
export function errorToWire(service: string, method: string, error: unknown, methods: readonly string[]): WireError {
  if (error instanceof ServiceNotFoundError) return { kind: "not-found", service, method, message: error.message, name: error.name, methods: [...methods] };
  if (error instanceof ServiceCallTimeoutError) return { kind: "timeout", service, method, message: error.message, name: error.name };
  // The host wraps what the method threw: send the method's own error, the caller wraps it again.
  const cause = error instanceof ServiceCallError && error.cause !== undefined ? error.cause : error;
  const wire: WireError = { kind: "call", service, method, message: messageOf(cause), name: cause instanceof Error ? cause.name : "Error" };
  if (cause instanceof Error && typeof cause.stack === "string") wire.stack = cause.stack;
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === "string") wire.code = code;
  return wire;
}

/** The error a caller sees for a wire error: the class the call would have thrown in-process. */
export function errorFromWire(wire: WireError, timeoutMs: number): Error {
  if (wire.kind === "not-found") return new ServiceNotFoundError(wire.service, wire.method, wire.methods ?? []);
  if (wire.kind === "timeout") return new ServiceCallTimeoutError(wire.service, wire.method, timeoutMs);
  return new ServiceCallError(wire.service, wire.method, remoteError(wire));
}

/** An Error standing for the remote one: its message, name, code and stack. */
export function remoteError(wire: Pick<WireError, "message" | "name" | "stack" | "code">): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  error.stack = wire.stack ?? `${wire.name}: ${wire.message}`;
  if (wire.code !== undefined) (error as Error & { code?: string }).code = wire.code;
  return error;
}
