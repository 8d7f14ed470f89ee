import { userFrames } from "./stack-frames.js";
import type { JobStatus } from "./types.js";

/** Base class of every error SAGE raises on purpose; `code` is stable and safe to compare. */
export class SageError extends Error {
  /** Stable machine-readable code, e.g. `E_SERVICE_NOT_FOUND`. */
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A call named a service (or a method of it) that the job does not have. */
export class ServiceNotFoundError extends SageError {
  constructor(readonly service: string, readonly method?: string, known: readonly string[] = []) {
    super(
      "E_SERVICE_NOT_FOUND",
      method === undefined
        ? `service '${service}' is not registered${known.length ? ` (registered: ${known.join(", ")})` : " (no services are registered)"}`
        : `service '${service}' has no method '${method}'${known.length ? ` (methods: ${known.join(", ")})` : ""}`,
    );
  }
}

/** A service call did not answer within its timeout. */
export class ServiceCallTimeoutError extends SageError {
  constructor(readonly service: string, readonly method: string, readonly timeoutMs: number) {
    super("E_SERVICE_CALL_TIMEOUT", `call to ${service}.${method}() timed out after ${timeoutMs} ms`);
  }
}

/** A service method threw; carries the service, the method and the original error as `cause`. */
export class ServiceCallError extends SageError {
  constructor(readonly service: string, readonly method: string, cause: unknown) {
    super("E_SERVICE_CALL_FAILED", `${service}.${method}() failed: ${messageOf(cause)}`, { cause });
    withCauseFrames(this, cause);
  }
}

/** The job ended in state `failed`; `status` is its final status. */
export class JobFailedError extends SageError {
  declare readonly status: JobStatus;

  constructor(status: JobStatus, options?: ErrorOptions) {
    const where = status.error?.operator ? ` in operator '${status.error.operator}'` : "";
    super("E_JOB_FAILED", `job '${status.name}' failed${where}: ${status.error?.message ?? "unknown error"}`, options);
    hideStatus(this, status);
    // The message once, then the operator's own frames: where the user's code failed, not how the runtime got there.
    if (status.error?.stack) this.stack = [`${this.name}: ${this.message}`, ...userFrames(status.error.stack, { jobId: status.id })].join("\n");
  }
}

/** An autostop wait or `wait({ timeoutMs })` expired; with autostop the job was stopped first. */
export class JobTimeoutError extends SageError {
  declare readonly status: JobStatus;

  constructor(status: JobStatus, readonly timeoutMs: number) {
    super("E_JOB_TIMEOUT", `job '${status.name}' did not finish within ${timeoutMs} ms (state: ${status.state})`);
    hideStatus(this, status);
  }
}

// Readable, but not enumerable: an uncaught error then prints its message and stack, not a
// fifty-line status object.
function hideStatus(error: Error, status: JobStatus): void {
  Object.defineProperty(error, "status", { value: status, enumerable: false, writable: false, configurable: true });
}

/** The declared pipeline cannot run: unknown function kind, dangling future, bad join inputs, ... */
export class PipelineDefinitionError extends SageError {
  constructor(message: string) {
    super("E_PIPELINE_DEFINITION", message);
  }
}

/** A JobManager request failed; carries the HTTP status and the server's message. */
export class JobManagerError extends SageError {
  constructor(readonly httpStatus: number, readonly serverCode: string, message: string, options?: ErrorOptions) {
    super("E_JOB_MANAGER", message, options);
  }
}

/** An error thrown by a user function, tagged with the operator that ran it. */
export class OperatorError extends SageError {
  constructor(readonly operator: string, cause: unknown) {
    super("E_OPERATOR_FAILED", `operator '${operator}' failed: ${messageOf(cause)}`, { cause });
  }
}

/** Every error class, grouped for `instanceof` checks. */
export const errors = {
  SageError,
  ServiceNotFoundError,
  ServiceCallTimeoutError,
  ServiceCallError,
  JobFailedError,
  JobTimeoutError,
  PipelineDefinitionError,
  JobManagerError,
  OperatorError,
} as const;

/**
 * Whether `error` is one SAGE raised on purpose, known by its stable code rather than its class:
 * a job's bundle and a user's second install of SAGE carry their own copy of SageError.
 */
export function isSageError(error: unknown): error is SageError {
  return error instanceof Error && error.name !== "Error" && /^E_[A-Z_]+$/.test(String((error as { code?: unknown }).code));
}

/**
 * Gives `error` the frames of the `cause` it wraps (after a "caused by" line): a wrapper made in
 * SAGE's code has only SAGE's frames, and the user's line that failed is the cause's.
 */
export function withCauseFrames<E extends Error>(error: E, cause: unknown): E {
  if (cause instanceof Error && cause.stack) error.stack = `${error.name}: ${error.message}\n    caused by ${cause.stack}`;
  return error;
}

/** The message of anything thrown, whether an Error or not. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
