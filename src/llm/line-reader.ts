import { open, type FileHandle } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";

const CHUNK_BYTES = 64 * 1024;

/**
 * Reads a text file line by line in 64 KiB chunks, never holding the whole file. `next()` answers
 * synchronously while the current chunk has lines, so a source built on it costs no promise per
 * record; it answers a Promise only when it must read the next chunk.
 */
export class LineReader {
  readonly path: string;
  #file: FileHandle | undefined;
  #opening: Promise<FileHandle> | undefined;
  readonly #decoder = new StringDecoder("utf8");
  readonly #buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  #lines: string[] = [];
  #next = 0;
  #rest = "";
  #ended = false;
  #closed = false;
  #line = 0;
  /** The file's size once opened, and the bytes read before the current chunk's lines and in it. */
  #size: number | undefined;
  #bytesBefore = 0;
  #chunkBytes = 0;

  constructor(path: string) {
    this.path = path;
  }

  /** The number (from 1) of the line `next()` answered last. */
  get line(): number {
    return this.#line;
  }

  /**
   * How far it has read, in bytes (of a file of `total` bytes), once the file is open: the bytes
   * before the current chunk and the share of it whose lines were answered.
   */
  get progress(): { done: number; total: number } | undefined {
    if (this.#size === undefined) return undefined;
    const share = this.#lines.length > 0 ? this.#next / this.#lines.length : 1;
    return { done: Math.min(this.#size, Math.round(this.#bytesBefore + this.#chunkBytes * share)), total: this.#size };
  }

  /** The next line without its line break, or undefined after the last one. */
  next(): string | undefined | Promise<string | undefined> {
    if (this.#next < this.#lines.length) {
      this.#line++;
      return this.#lines[this.#next++];
    }
    if (this.#ended || this.#closed) return undefined;
    return this.#fill().then(() => this.next());
  }

  /** Closes the file (also when it stopped half way); later `next()` calls answer undefined. */
  async close(): Promise<void> {
    this.#closed = true;
    const file = this.#file ?? (await this.#opening?.catch(() => undefined));
    this.#file = undefined;
    await file?.close();
  }

  async #fill(): Promise<void> {
    const file = this.#file ?? (await (this.#opening ??= open(this.path, "r")));
    if (this.#file === undefined) this.#size = (await file.stat()).size;
    this.#file = file;
    this.#lines = [];
    this.#next = 0;
    this.#bytesBefore += this.#chunkBytes;
    this.#chunkBytes = 0;
    // A chunk can end inside a line: read on until one ends, or the file does.
    while (this.#lines.length === 0 && !this.#ended && !this.#closed) {
      const { bytesRead } = await file.read(this.#buffer, 0, CHUNK_BYTES, null);
      this.#chunkBytes += bytesRead;
      let text: string;
      if (bytesRead === 0) {
        this.#ended = true;
        text = this.#rest + this.#decoder.end();
        this.#rest = "";
        if (text !== "") this.#lines = [stripCr(text)];
        break;
      }
      let chunk = this.#decoder.write(this.#buffer.subarray(0, bytesRead));
      if (this.#bytesBefore === 0 && this.#chunkBytes === bytesRead) chunk = withoutBom(chunk);
      // Only the new chunk is searched: re-splitting a growing line on every chunk is quadratic.
      if (!chunk.includes("\n")) {
        this.#rest += chunk;
        continue;
      }
      const lines = (this.#rest + chunk).split("\n");
      this.#rest = lines.pop()!;
      this.#lines = lines.map(stripCr);
    }
  }
}

/** `text` without a leading byte-order mark (Notepad, PowerShell 5 write one): it is no part of the text. */
export function withoutBom(text: string): string {
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

const stripCr = (line: string): string => (line.endsWith("\r") ? line.slice(0, -1) : line);
