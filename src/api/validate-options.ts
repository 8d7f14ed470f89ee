import { PipelineDefinitionError } from "./errors.js";
import type { OperatorOptions, StopOptions, SubmitOptions } from "./types.js";

/** The longest delay a Node timer honours (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Most parallel instances one operator may have: each is a task with its own channels and state. */
export const MAX_PARALLELISM = 1024;

/** Most async calls one operator instance may keep in flight. */
export const MAX_CONCURRENCY = 10_000;

/**
 * Checks `env.submit()` options; every mode (local, the JobManager's HTTP API, a job process)
 * accepts and refuses the same values. Returns the problem, or undefined when they are fine.
 */
export function submitOptionsProblem(options: unknown): string | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object" || Array.isArray(options)) return `options must be an object, got ${describe(options)}`;
  const { timeoutMs, autostop, keepServices } = options as SubmitOptions;
  if (timeoutMs !== undefined && !isTimerMs(timeoutMs, false)) {
    return `timeoutMs must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${describe(timeoutMs)}`;
  }
  if (autostop !== undefined && typeof autostop !== "boolean") return `autostop must be a boolean, got ${describe(autostop)}`;
  if (keepServices !== undefined && typeof keepServices !== "boolean") return `keepServices must be a boolean, got ${describe(keepServices)}`;
  return undefined;
}

/** Throws PipelineDefinitionError when `options` of `env.submit()` are invalid. */
export function validateSubmitOptions(options: unknown, envName: string): void {
  const problem = submitOptionsProblem(options);
  if (problem) throw new PipelineDefinitionError(`submit of '${envName}': ${problem}`);
}

/** Checks the options of `job.wait()`; the problem, or undefined when they are fine. */
export function waitOptionsProblem(options: unknown): string | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") return `options must be an object, got ${describe(options)}`;
  const { timeoutMs } = options as { timeoutMs?: unknown };
  if (timeoutMs !== undefined && !isTimerMs(timeoutMs, false)) {
    return `timeoutMs must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${describe(timeoutMs)}`;
  }
  return undefined;
}

/** Checks the options of `job.stop()` (the body of the JobManager's stop request too). */
export function stopOptionsProblem(options: unknown): string | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") return `options must be an object, got ${describe(options)}`;
  const { mode, graceMs } = options as StopOptions;
  if (mode !== undefined && mode !== "drain" && mode !== "abort") return `mode must be "drain" or "abort", got ${describe(mode)}`;
  if (graceMs !== undefined && !isTimerMs(graceMs, true)) return `graceMs must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${describe(graceMs)}`;
  return undefined;
}

/** Throws TypeError when the options of `job.wait()` are invalid. */
export function validateWaitOptions(options: unknown): void {
  const problem = waitOptionsProblem(options);
  if (problem) throw new TypeError(`wait(): ${problem}`);
}

/** Throws TypeError when the options of `job.stop()` are invalid. */
export function validateStopOptions(options: unknown): void {
  const problem = stopOptionsProblem(options);
  if (problem) throw new TypeError(`stop(): ${problem}`);
}

/** Throws PipelineDefinitionError naming the operator when its options are invalid. */
export function validateOperatorOptions(options: OperatorOptions, name: string): void {
  if (options.name !== undefined && (typeof options.name !== "string" || options.name.trim() === "")) {
    throw new PipelineDefinitionError(`an operator's name must be a non-empty string, got ${describe(options.name)}`);
  }
  for (const [key, limit] of [["parallelism", MAX_PARALLELISM], ["concurrency", MAX_CONCURRENCY]] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (!(typeof value === "number" && Number.isInteger(value) && value >= 1)) {
      throw new PipelineDefinitionError(`operator '${name}': ${key} must be a positive integer, got ${describe(value)}`);
    }
    if (value > limit) throw new PipelineDefinitionError(`operator '${name}': ${key} ${value} is above the limit of ${limit}`);
  }
  if (options.args !== undefined && !Array.isArray(options.args)) {
    throw new PipelineDefinitionError(`operator '${name}': args must be an array`);
  }
}

function isTimerMs(value: unknown, zeroAllowed: boolean): boolean {
  return typeof value === "number" && Number.isFinite(value) && (zeroAllowed ? value >= 0 : value > 0) && value <= MAX_TIMER_MS;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === undefined || value === null) return String(value);
  return Array.isArray(value) ? "an array" : typeof value;
}

/** Throws PipelineDefinitionError naming the service when its registration options are invalid. */
export function validateServiceOptions(options: unknown, name: string): void {
  const problem = serviceOptionsProblem(options);
  if (problem) throw new PipelineDefinitionError(`service '${name}': ${problem}`);
}

function serviceOptionsProblem(options: unknown): string | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object" || Array.isArray(options)) return `options must be an object, got ${describe(options)}`;
  const { args, maxConcurrency, remote } = options as Record<string, unknown>;
  if (args !== undefined && !Array.isArray(args)) return `args must be an array, got ${describe(args)}`;
  if (maxConcurrency !== undefined && !(Number.isInteger(maxConcurrency) && (maxConcurrency as number) >= 1 && (maxConcurrency as number) <= MAX_CONCURRENCY)) {
    return `maxConcurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${describe(maxConcurrency)}`;
  }
  if (remote !== undefined && typeof remote !== "boolean") return `remote must be a boolean, got ${describe(remote)}`;
  for (const key of ["callTimeoutMs", "setupTimeoutMs", "cleanupTimeoutMs"]) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined && !isTimerMs(value, false)) return `${key} must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${describe(value)}`;
  }
  return undefined;
}

/** Throws TypeError when the options of `ctx.service(name, options)` are invalid. */
export function validateServiceCallOptions(options: unknown, service: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") throw new TypeError(`ctx.service('${service}', options): options must be an object, got ${describe(options)}`);
  const { timeoutMs } = options as { timeoutMs?: unknown };
  if (timeoutMs !== undefined && !isTimerMs(timeoutMs, false)) {
    throw new TypeError(`ctx.service('${service}', options): timeoutMs must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${describe(timeoutMs)}`);
  }
}
