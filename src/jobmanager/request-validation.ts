import type { StopOptions } from "../api/types.js";
import { stopOptionsProblem, submitOptionsProblem } from "../api/validate-options.js";
import { HttpError } from "./http-errors.js";
import type { SubmitJobRequest } from "./protocol.js";
import { describeJson, isPlainObject } from "./request-body.js";

/** Longest job name or label (they are shown in lists, logs and the dashboard). */
export const MAX_NAME_LENGTH = 200;
/** Most environment variables a job may be given. */
export const MAX_ENV_VARIABLES = 1000;
/** Longest environment variable name, and value (what Linux allows for one variable). */
export const MAX_ENV_NAME_LENGTH = 256;
export const MAX_ENV_VALUE_LENGTH = 128 * 1024;
// POSIX-portable names: what a shell can export and a job can read back as process.env.NAME.
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks the body of `POST /api/jobs` (already known to be an object) and applies defaults. */
export function validateSubmit(body: Record<string, unknown>): SubmitJobRequest {
  if (typeof body.code !== "string" || body.code.length === 0) throw bad("'code' (the bundled job module) must be a non-empty string");
  const name = optionalName(body.name, "name");
  const label = optionalName(body.label, "label");
  const options = body.options === undefined ? {} : body.options;
  if (!isPlainObject(options)) throw bad(`'options' must be an object, got ${describeJson(options)}`);
  const { timeoutMs, graphFingerprint, pipelineIndex } = options;
  const pipelineName = optionalName(options.pipelineName, "options.pipelineName");
  // The same rules as env.submit() in every mode, in the same words.
  const problem = submitOptionsProblem({ timeoutMs, autostop: options.autostop, keepServices: options.keepServices });
  if (problem) throw bad(`'options': ${problem}`);
  if (graphFingerprint !== undefined && typeof graphFingerprint !== "string") throw bad("'options.graphFingerprint' must be a string");
  if (pipelineIndex !== undefined && !(typeof pipelineIndex === "number" && Number.isInteger(pipelineIndex) && pipelineIndex >= 0 && pipelineIndex < 1_000_000)) {
    throw bad("'options.pipelineIndex' must be a non-negative integer");
  }
  return {
    name: name || undefined,
    label: label || undefined,
    code: body.code,
    options: {
      autostop: optionalBoolean(options.autostop, "options.autostop"),
      timeoutMs: timeoutMs as number | undefined,
      // Given, it overrides the module's own submit(); not given, the module's choice stands.
      ...(options.keepServices !== undefined && { keepServices: optionalBoolean(options.keepServices, "options.keepServices") }),
      graphFingerprint,
      env: validateEnv(options.env === undefined ? {} : options.env),
      ...(pipelineIndex !== undefined && { pipelineIndex }),
      ...(pipelineName !== undefined && { pipelineName }),
    },
  };
}

/** Checks the body of `POST /api/jobs/:id/stop` (already known to be an object). */
export function validateStop(body: Record<string, unknown>): StopOptions {
  const { mode, graceMs } = body as StopOptions;
  const problem = stopOptionsProblem({ mode, graceMs });
  if (problem) throw bad(`stop ${problem}`);
  return { mode, graceMs };
}

function validateEnv(env: unknown): Record<string, string> {
  if (!isPlainObject(env)) throw bad(`'options.env' must be an object mapping names to string values, got ${describeJson(env)}`);
  const entries = Object.entries(env);
  if (entries.length > MAX_ENV_VARIABLES) throw bad(`'options.env' may hold at most ${MAX_ENV_VARIABLES} variables, got ${entries.length}`);
  for (const [key, value] of entries) {
    if (key.length > MAX_ENV_NAME_LENGTH || !ENV_NAME.test(key)) {
      throw bad(`'options.env' has an invalid variable name ${JSON.stringify(key.slice(0, 64))} (letters, digits and _, not starting with a digit, at most ${MAX_ENV_NAME_LENGTH} characters)`);
    }
    if (typeof value !== "string") throw bad(`'options.env.${key}' must be a string, got ${describeJson(value)}`);
    if (value.length > MAX_ENV_VALUE_LENGTH) throw bad(`'options.env.${key}' is longer than ${MAX_ENV_VALUE_LENGTH} characters`);
  }
  return env as Record<string, string>;
}

function optionalName(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw bad(`'${field}' must be a string, got ${describeJson(value)}`);
  if (value.length > MAX_NAME_LENGTH) throw bad(`'${field}' is longer than ${MAX_NAME_LENGTH} characters`);
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw bad(`'${field}' must be a boolean, got ${describeJson(value)}`);
  return value;
}

function bad(message: string): HttpError {
  return new HttpError(400, "E_BAD_REQUEST", message);
}
