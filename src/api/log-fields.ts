import type { Logger } from "./types.js";

/**
 * What a structured (JSON) log line says about where it comes from, where that is known. The
 * names are the Prometheus labels' (`job` is the job's id, `job_name` its name), so logs and
 * metrics of one job are found by the same values.
 */
export interface LogFields {
  job?: string;
  job_name?: string;
  operator?: string;
  service?: string;
  worker?: string;
}

// Loggers that can carry fields, with the way to make one that does; a text logger is not here.
const withFieldsOf = new WeakMap<Logger, (fields: LogFields) => Logger>();

/** Marks `logger` as one whose lines can carry fields: {@link withFields} asks `child` for a logger that adds them. */
export function carryingFields<L extends Logger>(logger: L, child: (fields: LogFields) => Logger): L {
  withFieldsOf.set(logger, child);
  return logger;
}

/**
 * `logger` with `fields` on each of its lines when it writes structured lines; otherwise `logger`
 * itself (a text line names the job or worker in its message already).
 */
export function withFields(logger: Logger, fields: LogFields): Logger {
  return withFieldsOf.get(logger)?.(fields) ?? logger;
}
