import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { ApiClient } from "./api.js";
import type { JobEvent } from "./types.js";

/** The lines a log panel holds at most; older ones scroll out. */
export const MAX_LOG_LINES = 5000;

/** A job's log tail: `lines[i]` is line number `base + i`. */
export interface LogTail {
  base: number;
  lines: string[];
  loaded: boolean;
  error: Error | undefined;
}

/**
 * The job's log: its tail loaded once, then the lines its event stream pushes (`push`), merged by
 * line number so a line read both ways shows once, and a gap is filled by asking for it.
 */
export function useJobLog(api: ApiClient, id: string): { log: LogTail; push(event: Extract<JobEvent, { type: "log" }>): void; reload(): void } {
  const [log, setLog] = useState<LogTail>({ base: 0, lines: [], loaded: false, error: undefined });
  const state = useRef(log);
  state.current = log;
  // Lines pushed before the tail arrived, merged when it does.
  const early = useRef<Array<{ line: number | undefined; message: string }>>([]);
  const [generation, setGeneration] = useState(0);

  const fetchSince = useCallback(
    async (since: number) => {
      try {
        const answer = await api.logs(id, since);
        setLog((current) => {
          const next = current.loaded ? append(current, answer.next - answer.lines.length, answer.lines) : { base: answer.next - answer.lines.length, lines: answer.lines };
          let merged: LogTail = { ...current, ...next, loaded: true, error: undefined };
          for (const pushed of early.current.splice(0)) merged = withLine(merged, pushed.line, pushed.message);
          return trimmed(merged);
        });
      } catch (failure) {
        setLog((current) => ({ ...current, loaded: true, error: failure instanceof Error ? failure : new Error(String(failure)) }));
      }
    },
    [api, id],
  );

  useEffect(() => {
    early.current = [];
    setLog({ base: 0, lines: [], loaded: false, error: undefined });
    // A log may hold 50,000 lines: ask where it ends first, then for the tail the panel keeps.
    void api
      .logs(id, Number.MAX_SAFE_INTEGER)
      .then((end) => fetchSince(Math.max(0, end.next - MAX_LOG_LINES)), () => fetchSince(0));
  }, [fetchSince, generation]);

  const push = useCallback(
    (event: Extract<JobEvent, { type: "log" }>) => {
      if (!state.current.loaded) {
        early.current.push({ line: event.line, message: event.message });
        return;
      }
      const end = state.current.base + state.current.lines.length;
      // A line beyond the next one means some were dropped on the way (a slow reader): ask for them.
      if (event.line !== undefined && event.line > end) {
        void fetchSince(end);
        return;
      }
      setLog((current) => trimmed(withLine(current, event.line, event.message)));
    },
    [fetchSince],
  );

  return { log, push, reload: () => setGeneration((n) => n + 1) };
}

// --- internal ---

function withLine(log: LogTail, line: number | undefined, message: string): LogTail {
  const end = log.base + log.lines.length;
  if (line !== undefined && line < end) return log; // already there
  return { ...log, lines: [...log.lines, String(message)] };
}

function append(log: LogTail, from: number, lines: string[]): Pick<LogTail, "base" | "lines"> {
  const end = log.base + log.lines.length;
  return { base: log.base, lines: [...log.lines, ...lines.slice(Math.max(0, end - from))] };
}

function trimmed(log: LogTail): LogTail {
  if (log.lines.length <= MAX_LOG_LINES) return log;
  const drop = log.lines.length - MAX_LOG_LINES;
  return { ...log, base: log.base + drop, lines: log.lines.slice(drop) };
}
