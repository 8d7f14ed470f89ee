import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import { CLIError } from "./cli-error.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Commander parser for a repeatable `--env KEY=VALUE`: collects the pairs in order. */
export function collectEnv(value: string, previous: Array<[string, string]> = []): Array<[string, string]> {
  const at = value.indexOf("=");
  const name = at < 0 ? value : value.slice(0, at);
  if (at < 0 || !NAME.test(name)) throw new InvalidArgumentError(`expected KEY=VALUE with KEY a variable name (got '${value}').`);
  return [...previous, [name, value.slice(at + 1)]];
}

/**
 * Reads a dotenv-style file: `KEY=VALUE` lines (an `export ` prefix allowed), blank lines and
 * `#` comments skipped, a value optionally in single or double quotes (double quotes take \n, \"
 * and \\ escapes; an unquoted value ends at ` #`). A line that is none of these is an error naming
 * the file and the line.
 */
export function parseEnvFile(file: string, text = readEnvFile(file)): Record<string, string> {
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    const bad = (why: string) => new CLIError(`${file}:${index + 1}: ${why} (expected KEY=VALUE): ${raw}`, "E_BAD_ENV_FILE");
    if (!match) throw bad("not an assignment");
    const [, name, rest] = match as unknown as [string, string, string];
    if (!NAME.test(name)) throw bad(`'${name}' is not a variable name`);
    env[name] = value(rest, bad);
  });
  return env;
}

function value(rest: string, bad: (why: string) => Error): string {
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const end = closingQuote(rest, quote);
    if (end < 0) throw bad(`the ${quote === '"' ? "double" : "single"} quote is not closed`);
    const after = rest.slice(end + 1).trim();
    if (after !== "" && !after.startsWith("#")) throw bad("text after the closing quote");
    const inner = rest.slice(1, end);
    return quote === "'" ? inner : inner.replace(/\\([n"\\])/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  const comment = rest.search(/\s#/);
  return (comment < 0 ? rest : rest.slice(0, comment)).trim();
}

function closingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

function readEnvFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CLIError(`cannot read env file ${file}: ${(error as Error).message}`, "E_FILE_NOT_FOUND");
  }
}

/** The job's variables: the env file's, then each `--env` over them. */
export function jobEnv(envFile: string | undefined, pairs: Array<[string, string]> = []): Record<string, string> | undefined {
  if (envFile === undefined && pairs.length === 0) return undefined;
  return { ...(envFile !== undefined && parseEnvFile(envFile)), ...Object.fromEntries(pairs) };
}
