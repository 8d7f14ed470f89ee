import { readFileSync } from "node:fs";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { messageOf } from "../api/errors.js";

/** How to reach a cluster: its NATS URL (user:password@ or token@ allowed) and an optional creds file. */
export interface ClusterAddress {
  url: string;
  /** A NATS `.creds` file (JWT + nkey seed). */
  creds?: string;
}

/** Options of a cluster connection. */
export interface ClusterConnectOptions {
  /** Shown in the server's connection list. */
  name: string;
  /** How long the first connection may take (default 5 s). */
  timeoutMs?: number;
  /** Check that the server has JetStream (default true). */
  requireJetStream?: boolean;
}

/**
 * The URL with every password or token replaced by `***`, for messages and logs: each part of a
 * comma-separated server list, with or without a scheme.
 */
export function redactUrl(url: string): string {
  return url.split(",").map(redactServer).join(",");
}

/**
 * Connects to a cluster's NATS server, reconnecting for ever after the first connection (a broker
 * restart is survived), and fails with an error that says what is wrong when it cannot connect.
 */
export async function connectCluster(address: ClusterAddress, options: ClusterConnectOptions): Promise<NatsConnection> {
  const shown = redactUrl(address.url);
  let authenticator;
  if (address.creds) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(address.creds);
    } catch (error) {
      throw new Error(`cannot read the NATS credentials file ${address.creds}: ${messageOf(error)}`);
    }
    authenticator = credsAuthenticator(creds);
  }
  const { servers, auth } = splitCredentials(address.url);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      ...auth,
      name: options.name,
      timeout: options.timeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      ...(authenticator && { authenticator }),
    });
  } catch (error) {
    throw new Error(`cannot connect to the NATS cluster at ${shown}: ${describeConnectError(error)}`, { cause: error });
  }
  if (options.requireJetStream !== false) {
    try {
      await (await jetstreamManager(nc, { timeout: options.timeoutMs ?? 5000 })).getAccountInfo();
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw new Error(`the NATS server at ${shown} has no JetStream (start it with 'nats-server -js'): ${messageOf(error)}`, { cause: error });
    }
  }
  return nc;
}

/**
 * Closes `nc`; never rejects. nats.js records the stack of every close() (`new Error().stack`),
 * and where source maps are on (tsx, `sage run`, job hosts) formatting that first stack parses the
 * maps of every module on it: 10-20 ms at the end of a job, on autostop's path. No frames, no cost.
 */
export async function closeConnection(nc: NatsConnection): Promise<void> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let closing: Promise<void>;
  try {
    closing = nc.close(); // the stack is taken before close() first awaits
  } finally {
    Error.stackTraceLimit = limit;
  }
  await closing.catch(() => undefined);
}

/**
 * nats.js does not read credentials from the URL: take `user:password@` or `token@` out of each
 * (comma-separated) server URL and pass them as options.
 */
export function splitCredentials(url: string): { servers: string[]; auth: { user?: string; pass?: string; token?: string } } {
  const auth: { user?: string; pass?: string; token?: string } = {};
  const servers = url.split(",").map((one) => {
    const trimmed = one.trim();
    const match = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(trimmed);
    if (!match) return trimmed;
    const [, scheme, userinfo, rest] = match;
    const colon = userinfo!.indexOf(":");
    if (colon >= 0) {
      auth.user = decodeURIComponent(userinfo!.slice(0, colon));
      auth.pass = decodeURIComponent(userinfo!.slice(colon + 1));
    } else {
      auth.token = decodeURIComponent(userinfo!);
    }
    return `${scheme}${rest}`;
  });
  return { servers, auth };
}

// Up to the last "@" of the authority: a password with an unencoded "@" is hidden whole.
const USERINFO = /^(\s*(?:[a-z][a-z0-9+.-]*:\/\/)?)([^/]*)@/i;

function redactServer(server: string): string {
  return server.replace(USERINFO, (_, start: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return `${start}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : "***"}@`;
  });
}

function describeConnectError(error: unknown): string {
  const text = messageOf(error);
  if (/authorization|authentication|permissions/i.test(text)) return `the server refused the credentials (${text})`;
  if (/ECONNREFUSED|CONNECTION_REFUSED|connection refused/i.test(text)) return `nothing listens there (${text}); is nats-server running?`;
  if (/timeout/i.test(text)) return `no answer within the connect timeout (${text})`;
  return text;
}
