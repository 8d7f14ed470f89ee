import { readFile, stat } from "node:fs/promises";
import { BatchFunction, type SourceProgressReport } from "../api/functions.js";
import { isThenable } from "../runtime/thenable.js";
import { listFiles } from "./file-list.js";
import { LineReader, withoutBom } from "./line-reader.js";

/** Options of a TextFileSource. */
export interface TextFileSourceOptions {
  /** A file, a directory (every file under it) or a glob such as `docs/**\/*.md`; or several of them. */
  path: string | readonly string[];
  /**
   * `line`: one record `{ path, line, text }` per line (default for one file); `file`: one record
   * `{ path, text }` per file (default for a directory, a glob or several paths).
   */
  per?: "line" | "file";
  /** Skip lines that hold only whitespace (default true; `per: "line"` only). */
  skipEmpty?: boolean;
}

/** A line of a text file, as a TextFileSource emits it with `per: "line"`. */
export interface TextLine {
  path: string;
  /** Its number in the file, from 1. */
  line: number;
  text: string;
}

/** A whole text file, as a TextFileSource emits it with `per: "file"`. */
export interface TextFile {
  path: string;
  text: string;
}

/**
 * A bounded source of text files: one record per line (read a chunk at a time, never the whole
 * file), or one per file for a directory or glob, in sorted path order. A glob that matches
 * nothing fails the job, as a missing file does.
 * @example env.fromBatch(TextFileSource, { args: [{ path: "corpus/*.txt" }] }).flatMap(({ path, text }) => chunkText(text))
 */
export class TextFileSource extends BatchFunction<TextLine | TextFile> {
  readonly #patterns: readonly string[];
  #per: "line" | "file" | undefined;
  readonly #skipEmpty: boolean;
  #files: string[] | undefined;
  #index = 0;
  #reader: LineReader | undefined;
  /** Per line: the files' sizes, for progress. */
  #sizes: number[] | undefined;

  constructor(options: TextFileSourceOptions) {
    super();
    const patterns = typeof options?.path === "string" ? [options.path] : options?.path;
    if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((p) => typeof p === "string" && p !== "")) {
      throw new TypeError("TextFileSource needs { path: string | string[], per?: 'line' | 'file' }");
    }
    if (options.per !== undefined && options.per !== "line" && options.per !== "file") throw new TypeError(`TextFileSource: per must be 'line' or 'file', not '${String(options.per)}'`);
    this.#patterns = patterns;
    this.#per = options.per; // unset: known once the paths are listed
    this.#skipEmpty = options.skipEmpty ?? true;
    this.ctx.signal.addEventListener("abort", () => void this.#reader?.close(), { once: true });
  }

  execute(): TextLine | TextFile | undefined | Promise<TextLine | TextFile | undefined> {
    if (this.#files === undefined) return this.#list().then(() => this.execute());
    if (this.#per === "file") return this.#nextFile();
    for (;;) {
      if (this.#reader === undefined) {
        const path = this.#files[this.#index++];
        if (path === undefined) return undefined;
        this.#reader = new LineReader(path);
      }
      const reader = this.#reader;
      const text = reader.next();
      if (isThenable(text)) {
        return (text as Promise<string | undefined>).then(
          (t) => this.#lineRecord(reader, t) ?? this.execute(),
          (error: Error) => {
            throw new Error(`TextFileSource: cannot read ${reader.path}: ${error.message}`, { cause: error });
          },
        );
      }
      const record = this.#lineRecord(reader, text);
      if (record !== undefined) return record;
    }
  }

  async close(): Promise<void> {
    await this.#reader?.close();
  }

  /** Files read so far (per file), or bytes of the files read so far (per line), for percent done and ETA. */
  override progress(): SourceProgressReport | undefined {
    const files = this.#files;
    if (files === undefined) return undefined;
    if (this.#per === "file") return { done: this.#index, total: files.length, unit: "records" };
    const sizes = this.#sizes;
    if (sizes === undefined) return undefined;
    const current = this.#reader ? this.#index - 1 : this.#index;
    let done = sizes.slice(0, current).reduce((sum, size) => sum + size, 0);
    done += this.#reader?.progress?.done ?? 0;
    const total = sizes.reduce((sum, size) => sum + size, 0);
    return { done: Math.min(done, total), total, unit: "bytes" }; // a file that grew since it was listed
  }

  // The record of a line just read, or undefined to read on (a skipped line, or the file's end).
  #lineRecord(reader: LineReader, text: string | undefined): TextLine | undefined {
    if (text === undefined) {
      void reader.close();
      this.#reader = undefined;
      return undefined;
    }
    if (this.#skipEmpty && text.trim() === "") return undefined;
    return { path: reader.path, line: reader.line, text };
  }

  async #nextFile(): Promise<TextFile | undefined> {
    const path = this.#files![this.#index++];
    if (path === undefined) return undefined;
    try {
      return { path, text: withoutBom(await readFile(path, "utf8")) };
    } catch (error) {
      throw new Error(`TextFileSource: cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  async #list(): Promise<void> {
    const files: string[] = [];
    for (const pattern of this.#patterns) {
      let found: string[];
      try {
        found = await listFiles(pattern);
      } catch (error) {
        throw new Error(`TextFileSource: cannot read ${pattern}: ${(error as Error).message}`, { cause: error });
      }
      if (found.length === 0) throw new Error(`TextFileSource: no file matches '${pattern}'`);
      files.push(...found);
    }
    // One path naming a file (not a directory, not a glob) reads by line unless told otherwise.
    this.#per ??= this.#patterns.length === 1 && files.length === 1 && files[0] === this.#patterns[0] ? "line" : "file";
    if (this.#per === "line") this.#sizes = await Promise.all(files.map((path) => stat(path).then((s) => s.size, () => 0)));
    this.#files = files;
  }
}
