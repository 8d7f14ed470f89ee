import { BatchFunction, type SourceProgressReport } from "../api/functions.js";
import { isThenable } from "../runtime/thenable.js";
import { LineReader } from "./line-reader.js";

/** Options of a JsonlSource. */
export interface JsonlSourceOptions {
  /** The JSON Lines file: one JSON value per line; blank lines are skipped. */
  path: string;
  /** Keep only these keys of each record (each line must then hold an object); all keys when omitted. */
  fields?: readonly string[];
}

/**
 * A bounded source reading a JSON Lines file one line at a time (never the whole file), one
 * record per line. A line that is not valid JSON fails the job with the file and line number.
 * @example env.fromBatch(JsonlSource, { args: [{ path: "questions.jsonl", fields: ["query", "references"] }] })
 */
export class JsonlSource<T = Record<string, unknown>> extends BatchFunction<T> {
  readonly #reader: LineReader;
  readonly #fields: readonly string[] | undefined;

  constructor(options: JsonlSourceOptions) {
    super();
    if (typeof options?.path !== "string" || options.path === "") throw new TypeError("JsonlSource needs { path: string, fields?: string[] }");
    if (options.fields !== undefined && (!Array.isArray(options.fields) || !options.fields.every((f) => typeof f === "string"))) {
      throw new TypeError("JsonlSource: fields must be an array of key names");
    }
    this.#reader = new LineReader(options.path);
    this.#fields = options.fields;
    this.ctx.signal.addEventListener("abort", () => void this.#reader.close(), { once: true });
  }

  execute(): T | undefined | Promise<T | undefined> {
    for (;;) {
      const line = this.#reader.next();
      if (isThenable(line)) {
        return (line as Promise<string | undefined>).then(
          (l) => (l === undefined ? undefined : (this.#parsed(l) ?? this.execute())),
          (error) => this.#failed(error),
        );
      }
      if (line === undefined) return undefined;
      const record = this.#parsed(line);
      if (record !== undefined) return record;
    }
  }

  async close(): Promise<void> {
    await this.#reader.close();
  }

  /** Bytes of the file read so far, for percent done and ETA. */
  override progress(): SourceProgressReport | undefined {
    const progress = this.#reader.progress;
    return progress && { ...progress, unit: "bytes" };
  }

  // The record of a line, or undefined for a blank line.
  #parsed(line: string): T | undefined {
    if (line.trim() === "") return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(`JsonlSource: ${this.#reader.path} line ${this.#reader.line} is not valid JSON (${(error as Error).message})`);
    }
    if (value === null) throw new TypeError(`JsonlSource: ${this.#reader.path} line ${this.#reader.line} is null, which is not a record`);
    if (this.#fields === undefined) return value as T;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new TypeError(`JsonlSource: ${this.#reader.path} line ${this.#reader.line} is not an object, so it has no fields to keep`);
    }
    const record: Record<string, unknown> = {};
    for (const field of this.#fields) if (field in value) record[field] = (value as Record<string, unknown>)[field];
    return record as T;
  }

  // A read failed (a missing file, a directory, an I/O error): name the file.
  #failed(error: unknown): never {
    throw new Error(`JsonlSource: cannot read ${this.#reader.path}: ${(error as Error).message}`, { cause: error });
  }
}
