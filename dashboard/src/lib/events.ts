import { jobPath } from "./api.js";
import { tokenProtocol } from "./token-protocol.js";
import type { JobEvent } from "./types.js";

/** The subprotocol of the JobManager's event streams. */
const EVENTS_PROTOCOL = "sage.v1";

/** What a job's event stream tells its follower. */
export interface EventStreamHandlers {
  onEvent(event: JobEvent): void;
  /** The stream ended: `normal` when the server closed it after the job's end. */
  onClose(normal: boolean): void;
}

/** Follows a job's pushed events; answers the function that stops following. */
export function followJob(id: string, token: string, handlers: EventStreamHandlers): () => void {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${jobPath(id)}/events`, [EVENTS_PROTOCOL, tokenProtocol(token)]);
  let stopped = false;
  socket.addEventListener("message", (message: MessageEvent) => {
    if (stopped) return;
    try {
      handlers.onEvent(JSON.parse(String(message.data)) as JobEvent);
    } catch {
      // a frame that is not an event is no reason to drop the stream
    }
  });
  socket.addEventListener("close", (event: CloseEvent) => {
    if (!stopped) handlers.onClose(event.code === 1000);
  });
  return () => {
    stopped = true;
    // Closing a socket still connecting makes the browser log an error; let it open, then close.
    if (socket.readyState === WebSocket.CONNECTING) socket.addEventListener("open", () => socket.close(1000));
    else socket.close(1000);
  };
}
