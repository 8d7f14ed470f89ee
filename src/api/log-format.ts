/** How the JobManager and workers write their own log: text lines (the default) or one JSON object a line. */
export type LogFormat = "text" | "json";

const LOG_FORMATS: readonly string[] = ["text", "json"] satisfies LogFormat[];

/** Checks a log format given on the command line or in options; the error names the bad value and the choices. */
export function parseLogFormat(value: unknown): LogFormat {
  if (typeof value === "string" && LOG_FORMATS.includes(value)) return value as LogFormat;
  throw new Error(`'${String(value)}' is not a log format: use text or json`);
}
