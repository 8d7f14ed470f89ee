import { format } from "node:util";
import { pino, type DestinationStream, type Logger as Pino } from "pino";
import { carryingFields, type LogFields } from "./log-fields.js";
import { defaultLogLevel } from "./logger.js";
import type { Logger, LogLevel } from "./types.js";

/** Where JSON lines go: all to one file descriptor, or info and below to `out` and warnings and errors to `err` (each given one line, without its newline). */
export type JsonLogTarget = { fd: 1 | 2 } | { out: (line: string) => void; err: (line: string) => void };

/** Options of {@link createJsonLog}. */
export interface JsonLogOptions {
  /** The `name` field of every line (`jobmanager`, `worker`). */
  name: string;
  /** Lines below it are dropped (default: SAGE_LOG_LEVEL, else info). */
  level?: LogLevel;
  /** Fields every line carries. */
  fields?: LogFields;
  /** Default: stderr. */
  target?: JsonLogTarget;
}

/**
 * A pino logger writing one JSON object a line (pino's `level`, `time`, `pid`, `hostname`, `name`,
 * `msg`, plus the fields). It writes synchronously: lines stay in order with the process's other
 * output and none is lost when the process exits right after.
 */
export function createJsonLog(options: JsonLogOptions): Pino {
  const log = pino({ name: options.name, level: options.level ?? defaultLogLevel() }, destination(options.target ?? { fd: 2 }));
  return options.fields ? log.child(options.fields) : log;
}

/** The Logger face of a pino logger: a printf-style message becomes `msg`, formatted as the text logger formats it; `withFields` adds fields. */
export function jsonLogger(log: Pino): Logger {
  const at = (level: "debug" | "info" | "warn" | "error") => (message: unknown, ...args: unknown[]) => log[level](format(message, ...args));
  return carryingFields({ debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, (fields) => jsonLogger(log.child(fields)));
}

function destination(target: JsonLogTarget): DestinationStream {
  if ("fd" in target) return pino.destination({ fd: target.fd, sync: true });
  const lineTo = (write: (line: string) => void): DestinationStream => ({ write: (line: string) => write(line.endsWith("\n") ? line.slice(0, -1) : line) });
  // With dedupe a line goes only to the stream of the highest level it reaches.
  return pino.multistream(
    [
      { level: "trace", stream: lineTo(target.out) },
      { level: "warn", stream: lineTo(target.err) },
    ],
    { dedupe: true },
  );
}
