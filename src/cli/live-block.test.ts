import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { JobHandle, JobStatus } from "../api/types.js";
import { createJobDisplay } from "./job-display.js";
import { displayWidth, fitWidth } from "./live-block.js";
import { createProgressDisplay } from "./progress.js";
import { jobStatus, threeOperators } from "../../test/support/job-status.js";

/**
 * A terminal of `columns` columns that keeps every row it ever showed (screen and scrollback): it
 * wraps at the right margin and understands the cursor-up, carriage-return and clear-below
 * sequences the displays use. What is left in `rows` is what a user would scroll back through.
 */
class FakeTerminal extends EventEmitter {
  readonly isTTY = true;
  rows: string[] = [""];
  text = "";
  #row = 0;
  #col = 0;
  constructor(public columns: number) {
    super();
  }
  write(chunk: string): boolean {
    this.text += chunk;
    for (const part of chunk.split(/(\x1b\[\d*[A-Za-z]|\r|\n)/)) {
      if (part === "") continue;
      if (part === "\n") this.#moveTo(this.#row + 1, 0);
      else if (part === "\r") this.#col = 0;
      else if (/^\x1b\[\d*A$/.test(part)) this.#row = Math.max(0, this.#row - Number(part.slice(2, -1) || 1));
      else if (part === "\x1b[0J") {
        this.rows = this.rows.slice(0, this.#row + 1);
        this.rows[this.#row] = this.rows[this.#row]!.slice(0, this.#col);
      } else if (part.startsWith("\x1b[")) throw new Error(`unexpected escape ${JSON.stringify(part)}`);
      else for (const char of part) this.#put(char);
    }
    return true;
  }
  resize(columns: number): void {
    this.columns = columns;
    this.emit("resize");
  }
  #put(char: string): void {
    if (this.#col >= this.columns) this.#moveTo(this.#row + 1, 0); // auto-wrap before the next character
    const row = this.rows[this.#row]!.padEnd(this.#col);
    this.rows[this.#row] = row.slice(0, this.#col) + char + row.slice(this.#col + 1);
    this.#col++;
  }
  #moveTo(row: number, col: number): void {
    this.#row = row;
    this.#col = col;
    while (this.rows.length <= row) this.rows.push("");
  }
}

function status(overrides: Partial<JobStatus> = {}): JobStatus {
  return jobStatus({ name: "a-job-with-a-rather-long-name", operators: threeOperators("EmbedEverything", 1200, 1100, 2), ...overrides });
}

const asStream = (terminal: FakeTerminal) => terminal as unknown as NodeJS.WriteStream;

describe("live displays on a narrow terminal", () => {
  it("cuts by display width, not string length", () => {
    expect(displayWidth("\x1b[31mab\x1b[0m")).toBe(2);
    expect(displayWidth("日本")).toBe(4);
    expect(fitWidth("abcdef", 4)).toBe("abc…");
    expect(fitWidth("日本語です", 5)).toBe("日本…");
    expect(fitWidth("\x1b[1mabcdef", 4)).toBe("\x1b[1mabc…\x1b[0m");
    expect(fitWidth("short", 10)).toBe("short");
  });

  it("sage job watch: redraws in place at 50 columns, leaving no copies in the scrollback", () => {
    const terminal = new FakeTerminal(50);
    const display = createJobDisplay(asStream(terminal));
    for (let i = 0; i < 5; i++) {
      display.update(status({ runtimeMs: 1500 + i * 1000 }));
      display.print(terminal as unknown as NodeJS.WritableStream, `log line ${i}\n`);
    }
    // Every live frame fits: no row was ever wrapped while the block was being redrawn.
    for (const row of terminal.rows) expect(displayWidth(row)).toBeLessThan(50);
    display.close(status({ state: "finished", runtimeMs: 9000, isRunning: false }));
    const screen = terminal.rows.filter((row) => row !== "");
    expect(screen.slice(0, 5)).toEqual(["log line 0", "log line 1", "log line 2", "log line 3", "log line 4"]);
    expect(screen.filter((row) => row.startsWith("▶"))).toEqual([]);
    // The final summary stays whole: it is printed once, and the terminal wraps it.
    expect(screen.slice(5, 7).join("")).toBe("job a-job-with-a-rather-long-name (01234567) finished in 9.0s");
  });

  it("sage run: the block fits 50 columns and is erased by exactly the rows it drew, also after a resize", () => {
    const terminal = new FakeTerminal(80);
    const display = createProgressDisplay(asStream(terminal));
    const job = { id: "0123456789abcdef", status: async () => status() } as unknown as JobHandle;
    try {
      display.track(job, status());
      terminal.resize(50); // the 80-column rows rewrap; the block is erased with the rows they take now, and redrawn
      for (const row of terminal.rows) expect(displayWidth(row)).toBeLessThan(50);
      expect(terminal.rows.filter((row) => row.startsWith("▶"))).toHaveLength(1);
      display.notice("a notice");
      expect(terminal.rows.filter((row) => row.startsWith("▶"))).toHaveLength(1);
      expect(terminal.rows).toContain("a notice");
    } finally {
      display.close([status({ state: "finished", isRunning: false })]);
    }
    expect(terminal.rows.filter((row) => row.startsWith("▶"))).toEqual([]);
  });
});
