import { format } from "node:util";
import type { Logger } from "../api/types.js";

// C0 controls, DEL, C1 controls and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\x1b`, `\u2028`). */
export function escapeControlChars(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : `\\u${c.charCodeAt(0).toString(16)}`));
}

/**
 * Wraps the JobManager's logger so each message stays one line: job names, paths and errors come
 * from clients, and a newline or terminal escape in one must not forge or hide lines of the log.
 * The message is formatted here (printf-style, as Logger takes it) and passed on as one string.
 */
export function singleLineLogger(logger: Logger): Logger {
  const at = (level: keyof Logger) => (message: unknown, ...args: unknown[]) => logger[level]("%s", escapeControlChars(format(message, ...args)));
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
