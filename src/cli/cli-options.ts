import { isIP } from "node:net";
import { InvalidArgumentError, Option, type Command } from "commander";
import { DEFAULT_HOST, DEFAULT_PORT, sageAddress } from "../api/address.js";
import { PipelineDefinitionError } from "../api/errors.js";
import { CLIError } from "./cli-error.js";
import { JobManagerClient } from "../jobmanager/client.js";
import { dataPaths, defaultDataDir, readToken } from "../jobmanager/paths.js";
import { isAlive, readPid, readRecordedAddress } from "./pid-file.js";

/** Where a command finds its JobManager, after defaults are applied. */
export interface ServerOptions {
  host: string;
  port: number;
  /** The token given on the command line or in SAGE_TOKEN, if any. */
  explicitToken?: string;
  dataDir: string;
}

/**
 * Adds the options every command that talks to a JobManager takes: --host, --port, --token,
 * --data-dir. `sage job` commands default to SAGE_ADDRESS; `sage jobmanager` commands manage the
 * server of a data dir (`start` listens where told, the others find it where it listens).
 */
export function addServerOptions(command: Command, scope: { jobManager?: boolean; listening?: boolean } = {}): Command {
  const managing = scope.jobManager === true || scope.listening !== undefined;
  const fallback = (what: "host" | "port", plain: string | number) =>
    managing
      ? `(default: ${scope.listening ? plain : `where the data dir's JobManager listens, else ${plain}`})`
      : `(default: the ${what} of $SAGE_ADDRESS, else where the data dir's JobManager listens, else ${plain})`;
  return command
    // No commander defaults: an option left out falls back to SAGE_ADDRESS or the data dir first.
    .addOption(new Option("--host <host>", `JobManager address ${fallback("host", DEFAULT_HOST)}`))
    .addOption(new Option("--port <port>", `JobManager port${scope.listening ? "; 0 picks a free one" : ""} ${fallback("port", DEFAULT_PORT)}`).argParser(scope.listening ? parseListenPort : parsePort))
    .addOption(new Option("--token <token>", "API token (default: $SAGE_TOKEN, then the token stored in the data dir)"))
    .addOption(new Option("--data-dir <dir>", "JobManager data directory").default(defaultDataDir()));
}

/**
 * Reads the server options commander parsed (see addServerOptions): flags first, then (for the
 * commands that talk to a JobManager somewhere, `useAddress`) SAGE_ADDRESS, then the defaults.
 */
export function serverOptions(raw: Record<string, unknown>, useAddress = false): ServerOptions {
  const token = (raw.token as string | undefined) || process.env.SAGE_TOKEN || undefined;
  let host = raw.host as string | undefined;
  let port = raw.port as number | undefined;
  if (useAddress && (host === undefined || port === undefined)) {
    let address;
    try {
      address = sageAddress();
    } catch (error) {
      throw error instanceof PipelineDefinitionError ? new CLIError(error.message, "E_BAD_ADDRESS") : error;
    }
    host ??= address?.host;
    port ??= address?.port;
    // Neither given: the running JobManager of the data dir, where it listens (a --port 0 one too).
    if (host === undefined && port === undefined) ({ host, port } = runningAddress(raw.dataDir as string) ?? {});
  }
  return { host: host ?? DEFAULT_HOST, port: port ?? DEFAULT_PORT, dataDir: raw.dataDir as string, ...(token && { explicitToken: token }) };
}

// Where the JobManager of `dataDir` listens, while its process is alive (a crashed one's pid file stays).
function runningAddress(dataDir: string): { host: string; port: number } | undefined {
  const file = dataPaths(dataDir).pid;
  const pid = readPid(file);
  return pid !== undefined && isAlive(pid) ? readRecordedAddress(file) : undefined;
}

/** The flags that make another `sage` command reach the same JobManager with the same token source. */
export function serverFlags(options: ServerOptions): string {
  const flags: string[] = [];
  if (options.host !== DEFAULT_HOST) flags.push("--host", shellWord(options.host));
  if (options.port !== DEFAULT_PORT) flags.push("--port", String(options.port));
  if (options.dataDir !== defaultDataDir()) flags.push("--data-dir", shellWord(options.dataDir));
  return flags.map((flag) => ` ${flag}`).join("");
}

// A word as a POSIX shell reads it back.
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The token a client uses: the explicit one, else the one a local JobManager stored in the data dir. */
export function clientToken(options: ServerOptions): string | undefined {
  return options.explicitToken ?? readToken(options.dataDir);
}

/** A client for the JobManager the options name. */
export function clientFor(options: ServerOptions, token = clientToken(options), requestTimeoutMs?: number): JobManagerClient {
  return new JobManagerClient({ host: options.host, port: options.port, token, requestTimeoutMs, onWarning: (message) => process.stderr.write(`[sage] ${message}\n`) });
}

/** `host:port`, with IPv6 hosts in brackets. */
export function addressOf(options: Pick<ServerOptions, "host" | "port">): string {
  return `${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`;
}

/** The dashboard's address. It carries no token: the login page asks for it, so no URL, history or log ever holds it. */
export function dashboardUrl(options: Pick<ServerOptions, "host" | "port">): string {
  return `http://${addressOf(options)}/`;
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/** Commander parser for --port: an integer 1-65535. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError("expected an integer from 1 to 65535.");
  return port;
}

/** A port to listen on: 0 lets the system pick a free one. */
export function parseListenPort(value: string): number {
  return value.trim() === "0" ? 0 : parsePort(value);
}

/** The --log-format option of `sage jobmanager start|restart` and `sage worker start`: an unknown value is refused, naming it. */
export function logFormatOption(): Option {
  return new Option("--log-format <format>", "how the process writes its own log: text lines (the default) or one JSON object a line (pino)").choices(["text", "json"]);
}
