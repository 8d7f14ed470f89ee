import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { count } from "../lib/format.js";
import type { LogTail } from "../lib/use-job-log.js";

// How close to the bottom (px) still counts as "at the bottom": following stays on.
const BOTTOM_SLACK = 24;

/** The job's log tail: opens scrolled to the end, and follows new lines unless the reader scrolled up. */
export function LogPanel(props: { log: LogTail }) {
  const box = useRef<HTMLPreElement>(null);
  const [following, setFollowing] = useState(true);
  const { log } = props;
  const text = log.lines.join("\n");

  useLayoutEffect(() => {
    if (following && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [text, following]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    setFollowing(el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK);
  };

  return (
    <section class="card log" aria-label="Log">
      <div class="panel-head">
        <h2>
          Log <span class="muted">{log.loaded ? `${count(log.lines.length)} line${log.lines.length === 1 ? "" : "s"}${log.base > 0 ? ` (from line ${count(log.base + 1)})` : ""}` : "loading…"}</span>
        </h2>
        {!following && (
          <button type="button" onClick={() => setFollowing(true)}>
            Follow new lines ↓
          </button>
        )}
      </div>
      {log.error && <p class="error">{log.error.message}</p>}
      <pre ref={box} class="log-lines" onScroll={onScroll} tabIndex={0} data-following={following}>
        {log.loaded && log.lines.length === 0 ? "(no log lines)" : text}
      </pre>
    </section>
  );
}
