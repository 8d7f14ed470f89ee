import type { JobEvent, JobStatus } from "../api/types.js";
import type { JobManagerClient } from "../jobmanager/client.js";
import { LogPrinter } from "../jobmanager/log-printer.js";
import { isTransient, ServerContact } from "./server-contact.js";
import { TERMINAL_STATES } from "../api/job-state.js";


/** What a follower reports. */
export interface FollowHandlers {
  /** Every non-terminal status the event stream pushes (the terminal one is what followJob resolves with, after the last line). */
  onStatus?(status: JobStatus): void;
  /** New log lines, in order, each once; given, the log is followed. */
  onLines?(lines: string[]): void;
  /** How many lines the JobManager rolled off the job's log before they could be read (they are gone). */
  onDropped?(count: number): void;
}

/** The line that stands for `count` lines of a job's output that were gone before they could be read. */
export function droppedNotice(count: number): string {
  return `[sage] ${count} ${count === 1 ? "line" : "lines"} of the job's output were dropped by the JobManager's log limit before they could be read\n`;
}

/** Tuning of a follower. */
export interface FollowOptions {
  /** Status and log polling interval when the event stream is refused (default 200 ms). */
  pollMs?: number;
  /** Stops following early. */
  signal?: AbortSignal;
  /**
   * How long to wait for the process after the job reached a terminal state (default 3 s): a
   * module that leaves a timer or socket open keeps its process, and the stream, alive.
   */
  lingerMs?: number;
  /** How long the JobManager may not answer at all (frozen, restarting) before following gives up (default 2 min). */
  giveUpMs?: number;
}

/**
 * Follows job `id` (a full id) until its process is gone, learned from the end of its event
 * stream, which the server closes only after the process exited, so every log line is in by then.
 * Log lines are printed from the stream as they come; what it lacks (lines logged before it
 * opened, or dropped for a slow reader) is read from the log. A stream that breaks is opened
 * again, and requests that do not get through are retried, while the server may come back.
 * Resolves with the final status once every line has been handed out.
 */
export async function followJob(client: JobManagerClient, id: string, handlers: FollowHandlers, options: FollowOptions = {}): Promise<JobStatus> {
  const contact = new ServerContact(options.giveUpMs ?? 120_000, options.signal);
  const output = handlers.onLines && batchedOutput(handlers);
  let fetchFailure: unknown;
  const printer =
    output &&
    new LogPrinter(
      async (since) => {
        try {
          const page = await contact.retrying(() => client.logs(id, since));
          fetchFailure = undefined;
          return page;
        } catch (error) {
          fetchFailure = error;
          throw error;
        }
      },
      output.line,
      output.dropped,
    );
  let last: JobStatus | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;
  let markLingered: () => void = () => {};
  const lingered = new Promise<"lingered">((resolve) => (markLingered = () => resolve("lingered")));
  const aborted = new Promise<"aborted">((resolve) => {
    if (options.signal?.aborted) resolve("aborted");
    options.signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  const report = (status: JobStatus) => {
    last = status;
    if (!TERMINAL_STATES.has(status.state)) return handlers.onStatus?.(status);
    if (lingerTimer === undefined) lingerTimer = setTimeout(markLingered, options.lingerMs ?? 3000);
  };
  let stream: { close(): void } | undefined;
  const follow = () => {
    stream?.close();
    const events = client.events(id);
    stream = events;
    let delivered = false;
    // A stream that worked until it broke counts as an answer: a quiet job's server gets the whole retry window.
    return streamOnce(events, (event) => {
      delivered = true;
      onEvent(event);
    }).then((outcome) => (delivered && contact.heard(), outcome));
  };
  const onEvent = (event: JobEvent) => {
    contact.heard();
    if (event.type === "log") return printer?.onEvent(event);
    // Each stream starts with the current state: a catch-up then reads what was logged before it.
    if (event.type === "state") void printer?.catchUp();
    report(event.status);
  };

  try {
    // Read what the job logged so far while the stream opens: the server keeps only its last lines.
    void printer?.catchUp();
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      const outcome = await Promise.race([follow(), aborted, lingered]);
      if (outcome === "aborted") {
        await Promise.race([printer?.catchUp(), contact.pause(1000)]); // what is there already, best effort
        output?.flush();
        return last ?? (await client.getJob(id));
      }
      if (outcome === "lingered" || (outcome === "ended" && last && TERMINAL_STATES.has(last.state))) break;
      if (outcome !== "ended" && !isTransient(outcome)) {
        // The stream is refused (not the server unreachable): the status tells when the job ended.
        last = await pollUntilTerminal(client, id, contact, report, printer, options.pollMs ?? 200, aborted);
        await contact.pause((options.pollMs ?? 200) * 2); // its process may still be writing its last lines
        break;
      }
      // The stream closed or broke before the end (a frozen or restarting server): ask again.
      const status = await contact.retrying(() => client.getJob(id));
      if (TERMINAL_STATES.has(status.state)) {
        report(status);
        // One more stream: it ends once the process is gone, so every line is in.
        const more = await Promise.race([follow(), lingered, aborted]);
        if (more === "aborted") continue;
        break;
      }
      await contact.pause(delay);
    }
    if (printer) {
      await printer.flush();
      if (fetchFailure) throw fetchFailure;
    }
    output?.flush();
    // The stored status is the final word (after a linger, `last` is only the job's own report);
    // a job deleted meanwhile has none.
    return (await contact.retrying(() => client.getJob(id)).catch(() => undefined)) ?? last ?? (await client.getJob(id));
  } finally {
    clearTimeout(lingerTimer);
    stream?.close();
    output?.flush();
  }
}

// Reads one event stream to its end: "ended" when it closed, the error when it broke.
async function streamOnce(events: AsyncIterable<JobEvent> & { close(): void }, onEvent: (event: JobEvent) => void): Promise<"ended" | unknown> {
  try {
    for await (const event of events) onEvent(event);
    return "ended";
  } catch (error) {
    return error ?? new Error("event stream failed");
  } finally {
    events.close();
  }
}

// Without a stream: polls the status (and the log) until the job has ended.
async function pollUntilTerminal(
  client: JobManagerClient,
  id: string,
  contact: ServerContact,
  report: (status: JobStatus) => void,
  printer: LogPrinter | undefined,
  pollMs: number,
  aborted: Promise<"aborted">,
): Promise<JobStatus> {
  for (;;) {
    const status = await contact.retrying(() => client.getJob(id));
    report(status);
    if (TERMINAL_STATES.has(status.state)) return status;
    await printer?.catchUp();
    if ((await Promise.race([contact.pause(pollMs), aborted])) === "aborted") return status;
  }
}

// Hands lines out in batches (one per turn of the event loop, not one per pushed event), and a
// drop notice in its place among them.
function batchedOutput(handlers: FollowHandlers) {
  let pending: string[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = () => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    handlers.onLines?.(lines);
  };
  return {
    line(line: string) {
      pending.push(line);
      scheduled ??= setImmediate(flush);
    },
    dropped(count: number) {
      flush();
      handlers.onDropped?.(count);
    },
    flush,
  };
}
