/** The prefix of the subprotocol that carries the token. */
const TOKEN_PROTOCOL_PREFIX = "sage.token.";

/**
 * The subprotocol that carries the token: a browser's WebSocket cannot set an Authorization header,
 * and a token in the URL would reach logs. Base64url, because a subprotocol is an HTTP token.
 */
export function tokenProtocol(token: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(token)) binary += String.fromCharCode(byte);
  return `${TOKEN_PROTOCOL_PREFIX}${btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}
