import type { WebSocket, WebSocketServer } from "ws";

/**
 * Pings every peer of `sockets` each `intervalMs` and terminates one that did not answer the
 * previous ping: a client that vanished without closing (a dead laptop, a dropped route) would
 * otherwise hold its stream forever. Returns the function that stops the heartbeat.
 */
export function startHeartbeat(sockets: WebSocketServer, intervalMs: number): () => void {
  const answered = new WeakSet<WebSocket>();
  sockets.on("connection", (ws: WebSocket) => {
    answered.add(ws);
    ws.on("pong", () => answered.add(ws));
  });
  let lastBeat = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    // A late beat means this process itself stood still (stopped, swapped out): the pongs may be
    // waiting unread in the sockets, so no peer is judged this round.
    const judge = now - lastBeat < intervalMs * 2;
    lastBeat = now;
    for (const ws of sockets.clients) {
      if (judge && !answered.has(ws)) {
        ws.terminate();
        continue;
      }
      answered.delete(ws);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
