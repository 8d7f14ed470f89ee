import { isIP } from "node:net";
import { InvalidArgumentError, Option, type Command } from "commander";
import { JobManagerClient } from "../jobmanager/client.js";
import { defaultDataDir, readToken } from "../jobmanager/paths.js";

/** Where a command finds its JobManager, after defaults are applied. */
export interface ServerOptions {
  host: string;
  port: number;
  /** The token given on the command line or in SAGE_TOKEN, if any. */
  explicitToken?: string;
  dataDir: string;
}

/** Adds the options every command that talks to a JobManager takes: --host, --port, --token, --data-dir. */
export function addServerOptions(command: Command): Command {
  return command
    .addOption(new Option("--host <host>", "JobManager address").default("127.0.0.1"))
    .addOption(new Option("--port <port>", "JobManager port").default(19001).argParser(parsePort))
    .addOption(new Option("--token <token>", "API token (default: $SAGE_TOKEN, then the token stored in the data dir)"))
    .addOption(new Option("--data-dir <dir>", "JobManager data directory").default(defaultDataDir()));
}

/** Reads the server options commander parsed (see addServerOptions). */
export function serverOptions(raw: Record<string, unknown>): ServerOptions {
  const token = (raw.token as string | undefined) || process.env.SAGE_TOKEN || undefined;
  return { host: raw.host as string, port: raw.port as number, dataDir: raw.dataDir as string, ...(token && { explicitToken: token }) };
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
