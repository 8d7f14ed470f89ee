/** One page of `GET /api/jobs/:id/logs?since=N`. */
export interface LogPage {
  lines: string[];
  next: number;
}

/** How many printed lines are kept to align a job's retained log tail with. */
const REMEMBERED = 1000;

/**
 * Reads a job's log in pages so every line is handed out once, in order. Each read asks again for
 * the last line seen: when it is not where it was, the numbering did not continue (lines were
 * dropped while the reader lagged, or a server renumbered what it retained of a finished job),
 * and the whole retained log is aligned with the lines seen instead.
 */
export class LogCursor {
  #next = 0;
  readonly #recent: string[] = [];

  /** The lines added since the previous read. */
  async read(fetch: (since: number) => Promise<LogPage>): Promise<string[]> {
    if (this.#next === 0) return this.#take(await fetch(0), 0);
    const since = this.#next - 1;
    const page = await fetch(since);
    if (page.lines.length > 0 && page.lines[0] === this.#recent.at(-1) && page.next === since + page.lines.length) return this.#take(page, 1);
    const all = await fetch(0);
    return this.#take(all, overlap(this.#recent, all.lines));
  }

  #take(page: LogPage, skip: number): string[] {
    const fresh = page.lines.slice(skip);
    this.#next = page.next;
    this.#recent.push(...fresh);
    if (this.#recent.length > REMEMBERED) this.#recent.splice(0, this.#recent.length - REMEMBERED);
    return fresh;
  }
}

/** The largest k such that the last k lines of `seen` are the first k of `page`. */
export function overlap(seen: readonly string[], page: readonly string[]): number {
  for (let k = Math.min(seen.length, page.length); k > 0; k--) {
    let match = true;
    for (let i = 0; i < k && match; i++) match = seen[seen.length - k + i] === page[i];
    if (match) return k;
  }
  return 0;
}
