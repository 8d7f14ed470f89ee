/**
 * `text` with every control character (C0, DEL, C1) written as a visible escape (`\n`, `\x1b`,
 * `\u009b`): a string the server hands over (a job's name, an error message) must not move the
 * cursor, start an escape sequence or forge a line of its own on the user's terminal.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (char) => {
    const code = char.charCodeAt(0);
    if (char === "\n") return "\\n";
    if (char === "\r") return "\\r";
    if (char === "\t") return "\\t";
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
