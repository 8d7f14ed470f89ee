/**
 * A block of lines redrawn in place at the bottom of a terminal. Each line is cut to the
 * terminal's width, so that it takes one row and erasing moves up exactly the rows drawn; after a
 * resize (the terminal may have rewrapped what was drawn) the rows are counted at the new width.
 */
export class LiveBlock {
  #drawn: number[] = [];
  readonly #onResize = () => this.redraw();
  #lines: string[] = [];

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly write: (text: string) => void = (text) => void out.write(text),
  ) {
    out.on?.("resize", this.#onResize);
  }

  /** Whether the block is on the screen now. */
  get visible(): boolean {
    return this.#drawn.length > 0;
  }

  /** The columns a line of the block may take (one less than the terminal's: a full row would wrap the cursor). */
  get width(): number {
    return this.#columns() - 1;
  }

  /** Replaces what is on the screen with `lines`. */
  draw(lines: string[]): void {
    this.erase();
    this.#lines = lines;
    if (lines.length === 0) return;
    const max = this.width;
    const cut = lines.map((line) => fitWidth(line, max));
    this.write(`${cut.join("\n")}\n`);
    this.#drawn = cut.map(displayWidth);
  }

  /** Draws the last lines again, fitted to the terminal as it is now. */
  redraw(): void {
    if (this.visible) this.draw(this.#lines);
  }

  /** Removes the block from the screen (the cursor ends where it began). */
  erase(): void {
    if (this.#drawn.length === 0) return;
    const columns = this.#columns();
    // A line as wide as the terminal or wider fills more than one row once the terminal rewraps it.
    const rows = this.#drawn.reduce((sum, width) => sum + Math.max(1, Math.ceil(width / columns)), 0);
    this.#drawn = [];
    this.write(`\r\x1b[${rows}A\x1b[0J`);
  }

  /** Stops following resizes. */
  close(): void {
    this.out.off?.("resize", this.#onResize);
  }

  #columns(): number {
    return this.out.columns > 1 ? this.out.columns : 80;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/** How many terminal columns `text` takes: escapes take none, wide (CJK, emoji) characters two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text.replace(ANSI, "")) width += charWidth(char.codePointAt(0)!);
  return width;
}

/** `text` cut to at most `max` columns, ending in `…` when cut; escapes are kept, and reset when cut. */
export function fitWidth(text: string, max: number): string {
  if (displayWidth(text) <= max) return text;
  let out = "";
  let width = 0;
  let styled = false;
  for (const part of text.split(/(\x1b\[[0-9;?]*[ -/]*[@-~])/)) {
    if (part.startsWith("\x1b[")) {
      out += part;
      styled = true;
      continue;
    }
    for (const char of part) {
      const w = charWidth(char.codePointAt(0)!);
      if (width + w > max - 1) return `${out}…${styled ? "\x1b[0m" : ""}`;
      out += char;
      width += w;
    }
  }
  return out;
}

function charWidth(code: number): number {
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return 0;
  if ((code >= 0x300 && code <= 0x36f) || (code >= 0x200b && code <= 0x200f) || code === 0xfe0f) return 0;
  const wide =
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd);
  return wide ? 2 : 1;
}
