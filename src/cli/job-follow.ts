import type { JobState, JobStatus } from "../api/types.js";
import type { JobManagerClient } from "../jobmanager/client.js";
import { LogCursor } from "./log-cursor.js";

const TERMINAL: ReadonlySet<JobState> = new Set(["finished", "stopped", "failed"]);

/** What a follower reports. */
export interface FollowHandlers {
  /** Every status the event stream pushes: state changes and metrics. */
  onStatus?(status: JobStatus): void;
  /** New log lines, in order, each once; given, the log is polled. */
  onLines?(lines: string[]): void;
}

/** Tuning of a follower. */
export interface FollowOptions {
  /** Log polling interval (default 200 ms). */
  pollMs?: number;
  /** Stops following early. */
  signal?: AbortSignal;
  /**
   * How long to wait for the process after the job reached a terminal state (default 3 s): a
   * module that leaves a timer or socket open keeps its process, and the stream, alive.
   */
  lingerMs?: number;
}

/**
 * Follows job `id` (a full id) until its process is gone, learned from the end of its event
 * stream, which the server closes only after the process exited, so every log line is in by
 * then. Should the stream break, polls the status instead. Resolves with the last status.
 */
export async function followJob(client: JobManagerClient, id: string, handlers: FollowHandlers, options: FollowOptions = {}): Promise<JobStatus> {
  const pollMs = options.pollMs ?? 200;
  const events = client.events(id);
  let last: JobStatus | undefined;
  let markTerminal: () => void = () => {};
  const terminal = new Promise<"ended">((resolve) => (markTerminal = () => resolve("ended")));
  let lingerTimer: NodeJS.Timeout | undefined;
  const report = (status: JobStatus) => {
    last = status;
    handlers.onStatus?.(status);
    if (TERMINAL.has(status.state) && lingerTimer === undefined) lingerTimer = setTimeout(markTerminal, options.lingerMs ?? 3000);
  };
  const streamEnd = (async (): Promise<"ended" | "broken"> => {
    try {
      for await (const event of events) if (event.type !== "log") report(event.status);
      return "ended";
    } catch {
      return "broken";
    }
  })();
  const aborted = new Promise<"aborted">((resolve) => {
    if (options.signal?.aborted) resolve("aborted");
    options.signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  const cursor = new LogCursor();
  const readLogs = async () => {
    if (!handlers.onLines) return;
    const lines = await cursor.read((since) => client.logs(id, since));
    if (lines.length > 0) handlers.onLines(lines);
  };

  try {
    let outcome: "ended" | "broken" | "aborted" | "tick";
    do {
      await readLogs();
      outcome = await within(pollMs, streamEnd, aborted, terminal);
    } while (outcome === "tick");
    if (outcome === "aborted") {
      await readLogs().catch(() => {}); // what is there already, best effort
      return last ?? (await client.getJob(id));
    }
    if (outcome === "broken") {
      // No stream: the status tells when the job ended; its process may still be writing its last lines.
      for (;;) {
        const status = await client.getJob(id);
        report(status);
        if (TERMINAL.has(status.state)) break;
        await readLogs();
        if ((await within(pollMs, aborted)) === "aborted") return status;
      }
      await within(pollMs * 2);
    }
    await readLogs();
    // The stored status is the final word (after a linger, `last` is only the job's own report);
    // a job deleted meanwhile has none.
    return (await client.getJob(id).catch(() => undefined)) ?? last ?? (await client.getJob(id));
  } finally {
    clearTimeout(lingerTimer);
    events.close();
  }
}

// The first of `promises` to settle, or "tick" after `ms`; the timer never outlives the wait.
async function within<T>(ms: number, ...promises: Array<Promise<T>>): Promise<T | "tick"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([...promises, new Promise<"tick">((resolve) => (timer = setTimeout(resolve, ms, "tick")))]);
  } finally {
    clearTimeout(timer);
  }
}
