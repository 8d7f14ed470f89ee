/**
 * How a browser's event stream proves it holds the token. A browser's WebSocket cannot set an
 * Authorization header, and a token in the URL would reach logs and histories; so the dashboard
 * offers two subprotocols, `sage.v1` and `sage.token.<the token, base64url>`. The server answers
 * with `sage.v1` only, never echoing the token. Clients that can set headers (the CLI) send
 * `Authorization: Bearer <token>` as on every other request.
 */

/** The subprotocol of the JobManager's event streams. */
export const EVENTS_PROTOCOL = "sage.v1";

/** The prefix of the subprotocol that carries the token. */
export const TOKEN_PROTOCOL_PREFIX = "sage.token.";

/** The subprotocol that carries `token` (base64url: a subprotocol allows only token characters). */
export function tokenProtocol(token: string): string {
  return `${TOKEN_PROTOCOL_PREFIX}${Buffer.from(token, "utf8").toString("base64url")}`;
}

/** The token a `Sec-WebSocket-Protocol` header carries, if any. */
export function protocolToken(header: string | string[] | undefined): string | undefined {
  const offered = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",").map((p) => p.trim());
  const carrier = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  if (carrier === undefined) return undefined;
  const encoded = carrier.slice(TOKEN_PROTOCOL_PREFIX.length);
  // Only base64url: anything else is no token (Buffer.from would skip the stray characters).
  return /^[A-Za-z0-9_-]*$/.test(encoded) ? Buffer.from(encoded, "base64url").toString("utf8") : "";
}

/** The subprotocol the server answers with: `sage.v1` when offered, else none (the token one never). */
export function chooseProtocol(offered: Set<string>): string | false {
  return offered.has(EVENTS_PROTOCOL) ? EVENTS_PROTOCOL : false;
}
