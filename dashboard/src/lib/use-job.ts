import { useEffect, useRef, useState } from "preact/hooks";
import type { ApiClient } from "./api.js";
import { followJob } from "./events.js";
import { ACTIVE_STATES } from "./levels.js";
import type { JobEvent, JobStatus } from "./types.js";

/** A job as its page shows it: the last status, whether it is followed live, a load failure. */
export interface JobView {
  status: JobStatus | undefined;
  error: Error | undefined;
  /** The event stream is open: the status is pushed as it changes. */
  streaming: boolean;
  /** Replaces the status (with the answer of a stop). */
  setStatus(status: JobStatus): void;
}

// After a stream broke (the server restarted, the network dropped), how long before trying again.
const RECONNECT_MS = 2000;

/**
 * Loads a job's status, then follows its event stream while it is active, or keeps services:
 * `state` and `metrics` events carry the full status; `log` events go to `onLog`.
 */
export function useJob(api: ApiClient, token: string, id: string, onLog: (event: Extract<JobEvent, { type: "log" }>) => void): JobView {
  const [status, setStatus] = useState<JobStatus | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [streaming, setStreaming] = useState(false);
  const onLogRef = useRef(onLog);
  onLogRef.current = onLog;

  useEffect(() => {
    let stopped = false;
    let unfollow: (() => void) | undefined;
    let timer: number | undefined;
    setStatus(undefined);
    setError(undefined);
    const connect = async () => {
      let current: JobStatus;
      try {
        current = await api.job(id);
      } catch (failure) {
        if (stopped) return;
        setError(failure instanceof Error ? failure : new Error(String(failure)));
        // A job that is gone stays gone; anything else (the server away) is tried again.
        if ((failure as { status?: number }).status !== 404) timer = window.setTimeout(connect, RECONNECT_MS);
        return;
      }
      if (stopped) return;
      setError(undefined);
      setStatus(current);
      // An ended job that keeps services still sends their metrics, until they are released.
      const ended = !ACTIVE_STATES.has(current.state);
      if (ended && !(Number(current.services) > 0)) return;
      setStreaming(true);
      unfollow = followJob(id, token, {
        onEvent: (event) => {
          if (event.jobId !== id) return;
          if (event.type === "log") onLogRef.current(event);
          else setStatus(event.status);
        },
        onClose: (normal) => {
          setStreaming(false);
          unfollow = undefined;
          // A normal close follows the job's end; either way the status is read again (and, if
          // the job still runs, followed again).
          timer = window.setTimeout(connect, normal && !ended ? 0 : RECONNECT_MS);
        },
      });
    };
    void connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      unfollow?.();
      setStreaming(false);
    };
  }, [api, token, id]);

  return { status, error, streaming, setStatus };
}
