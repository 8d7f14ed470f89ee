import type { JobEvent } from "../api/types.js";

/** How long a page that starts past the lines printed waits for the event stream to bring them. */
const PARK_MS = 1000;

/** One page of a job's log: the lines from some number on, and the number after the last. */
export interface LogPage {
  lines: string[];
  next: number;
}

/**
 * Prints one remote job's log lines, each once and in order, by number. Pushed log events are
 * printed as they come when they continue the numbering; a gap (lines logged before the event
 * stream opened, or dropped by a slow stream) is filled from the log itself first.
 */
export class LogPrinter {
  #next = 0;
  #fetching: Promise<void> | undefined;
  readonly #held: JobEvent[] = [];
  /** A page that starts past the next line to print, waiting for the stream to bring the lines before it. */
  #parked: { first: number; lines: string[]; timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly fetchPage: (since: number) => Promise<LogPage>,
    private readonly write: (line: string) => void,
    /** Told how many lines the server rolled off its log before they could be printed; unset, they are skipped silently. */
    private readonly onDropped?: (count: number) => void,
  ) {}

  /** The number of the next line to print: every line below it has been printed. */
  get next(): number {
    return this.#next;
  }

  /** Takes a pushed event: prints a log line that continues the numbering, fetches what a gap lacks. */
  onEvent(event: JobEvent): void {
    if (event.type !== "log" || event.line === undefined || event.line < this.#next) return;
    // A page is on its way: it may or may not hold this line; decide once it is printed.
    if (this.#fetching) return void this.#held.push(event);
    if (this.#parked) {
      // The stream is ordered: a line below the page's first is one the log no longer had; one
      // past it means every line before it has come (or was dropped by the server) and the page can go.
      if (event.line < this.#parked.first) return this.#print(event.message, event.line);
      this.#release();
      if (event.line < this.#next) return;
    }
    if (event.line === this.#next) this.#print(event.message, event.line);
    else void this.catchUp();
  }

  /** Fetches and prints the lines logged since the last one printed (joins a fetch under way). */
  catchUp(): Promise<void> {
    // A parked page waits for the stream: the log no longer has what it lacks.
    if (this.#parked) return Promise.resolve();
    this.#fetching ??= (async () => {
      try {
        const page = await this.fetchPage(this.#next);
        const first = page.next - page.lines.length;
        // The server may have rolled lines off its log while the page was on its way: the events
        // that came meanwhile still hold them, so they go first.
        while (this.#held.length > 0 && held(this.#held[0]!) < first) {
          const event = this.#held.shift()!;
          if (event.type === "log") this.#print(event.message, event.line!);
        }
        if (first > this.#next && page.lines.length > 0) {
          // The answer may have overtaken the events of the lines it no longer has: wait for them a while.
          const timer = setTimeout(() => this.#release(), PARK_MS);
          timer.unref();
          this.#parked = { first, lines: page.lines, timer };
        } else {
          page.lines.forEach((line, i) => this.#print(line, first + i));
        }
      } catch {
        // the log is out of reach for now: the next catch-up asks again from the same number
      } finally {
        this.#fetching = undefined;
        for (const event of this.#held.splice(0)) this.onEvent(event);
      }
    })();
    return this.#fetching;
  }

  /** Prints every line the log holds now, asked for after any fetch under way has ended (call it once the stream has ended). */
  async flush(): Promise<void> {
    while (this.#fetching) await this.#fetching;
    this.#release();
    await this.catchUp();
    this.#release();
  }

  // Prints a parked page: what the stream did not bring of the lines before it is gone.
  #release(): void {
    const parked = this.#parked;
    if (!parked) return;
    clearTimeout(parked.timer);
    this.#parked = undefined;
    parked.lines.forEach((line, i) => this.#print(line, parked.first + i));
  }

  #print(line: string, number: number): void {
    if (number < this.#next) return;
    // A number past `next` means the server no longer keeps the lines between: nothing to wait for.
    if (number > this.#next) this.onDropped?.(number - this.#next);
    this.#next = number + 1;
    this.write(line);
  }
}

// The number of a held event's line (only log lines with a number are held).
function held(event: JobEvent): number {
  return event.type === "log" ? event.line! : -1;
}
