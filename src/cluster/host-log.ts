import type { LogFields } from "../api/log-fields.js";
import type { LogLevel } from "../api/types.js";

/** A log record of a job's code on a worker, as its host process hands it to a worker that logs JSON. */
export interface HostLogRecord {
  level: Exclude<LogLevel, "silent">;
  /** The logger's name (`<operator>_<index>`, a service's name, `job <name> on <worker>`). */
  name: string;
  message: string;
  operator?: string;
  service?: string;
}

// What a record's line starts with. The job's own code can print it too, but what it can claim so
// is only its own lines' level, operator and service: the worker sets the job and worker fields.
const MARK = '{"sageHostLog":1,';
const LEVELS = new Set(["debug", "info", "warn", "error"]);

/** The line (on the host's stderr) that carries `record`. */
export function hostLogLine(level: LogLevel, name: string, message: string, fields: LogFields = {}): string {
  return `${MARK}${JSON.stringify({ level, name, message, operator: fields.operator, service: fields.service }).slice(1)}`;
}

/** The record a host's stderr line carries, or undefined for any other line. */
export function readHostLogLine(line: string): HostLogRecord | undefined {
  if (!line.startsWith(MARK)) return undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { level, name, message, operator, service } = parsed;
  if (typeof level !== "string" || !LEVELS.has(level) || typeof name !== "string" || typeof message !== "string") return undefined;
  if ((operator !== undefined && typeof operator !== "string") || (service !== undefined && typeof service !== "string")) return undefined;
  return { level: level as HostLogRecord["level"], name, message, ...(operator !== undefined && { operator }), ...(service !== undefined && { service }) };
}
