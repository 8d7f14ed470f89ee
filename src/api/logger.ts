import { format } from "node:util";
import type { Logger, LogLevel } from "./types.js";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Receives formatted log lines; the default writes to stderr, a job process forwards them. */
export type LogSink = (level: LogLevel, name: string, message: string) => void;

/** Writes `HH:MM:SS.mmm LEVEL name: message` to stderr. */
export const stderrLogSink: LogSink = (level, name, message) => {
  const time = new Date().toISOString().slice(11, 23);
  process.stderr.write(`${time} ${level.toUpperCase().padEnd(5)} ${name}: ${message}\n`);
};

/** The default level: SAGE_LOG_LEVEL when set and valid, else `info`. */
export function defaultLogLevel(): LogLevel {
  const fromEnv = process.env.SAGE_LOG_LEVEL?.toLowerCase();
  return fromEnv !== undefined && fromEnv in LEVEL_RANK ? (fromEnv as LogLevel) : "info";
}

/** Creates a logger named `name` that drops messages below `level`. */
export function createLogger(name: string, level: LogLevel = defaultLogLevel(), sink: LogSink = stderrLogSink): Logger {
  const rank = LEVEL_RANK[level] ?? LEVEL_RANK.info;
  const at = (lvl: LogLevel) =>
    LEVEL_RANK[lvl] < rank ? noop : (message: unknown, ...args: unknown[]) => sink(lvl, name, format(message, ...args));
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function noop(): void {}
