import { format } from "node:util";
import type { LogFields } from "./log-fields.js";
import type { Logger, LogLevel } from "./types.js";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * Receives formatted log lines; the default writes to stderr, a job process forwards them. `fields`
 * say which operator or service logged, for a sink that writes structured lines.
 */
export type LogSink = (level: LogLevel, name: string, message: string, fields?: LogFields) => void;

/** The text form of a log line: `HH:MM:SS.mmm LEVEL name: message`. */
export function logLine(level: LogLevel, name: string, message: string, at = new Date()): string {
  return `${at.toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${name}: ${message}`;
}

/** Writes {@link logLine} to stderr. */
export const stderrLogSink: LogSink = (level, name, message) => {
  process.stderr.write(`${logLine(level, name, message)}\n`);
};

/** The default level: SAGE_LOG_LEVEL when set and valid, else `info`. */
export function defaultLogLevel(): LogLevel {
  const fromEnv = process.env.SAGE_LOG_LEVEL?.toLowerCase();
  return fromEnv !== undefined && fromEnv in LEVEL_RANK ? (fromEnv as LogLevel) : "info";
}

/** Creates a logger named `name` that drops messages below `level`; `fields` go to the sink with each message. */
export function createLogger(name: string, level: LogLevel = defaultLogLevel(), sink: LogSink = stderrLogSink, fields?: LogFields): Logger {
  const rank = LEVEL_RANK[level] ?? LEVEL_RANK.info;
  const at = (lvl: LogLevel) =>
    LEVEL_RANK[lvl] < rank ? noop : (message: unknown, ...args: unknown[]) => sink(lvl, name, format(message, ...args), fields);
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function noop(): void {}
