import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import { SinkFunction } from "../api/functions.js";

/** Options of a JsonlSink. */
export interface JsonlSinkOptions {
  /**
   * The file to write; its directory is created. `{instance}` in it is replaced by the instance's
   * index, so parallel instances can write files of their own.
   */
  path: string;
  /** Append to the file (default true), or start it afresh (with several instances, give each its own file). */
  append?: boolean;
}

/**
 * A sink writing each record as one line of JSON, through a buffered stream that waits for the
 * disk when its buffer is full (backpressure reaches the pipeline); `close()` flushes and closes
 * the file, so it is complete when the job has finished.
 * @example stream.sink(JsonlSink, { args: [{ path: "out/answers.jsonl", append: false }] })
 */
export class JsonlSink<T = unknown> extends SinkFunction<T> {
  readonly path: string;
  readonly #append: boolean;
  #stream: WriteStream | undefined;
  #error: Error | undefined;

  constructor(options: JsonlSinkOptions) {
    super();
    if (typeof options?.path !== "string" || options.path === "") throw new TypeError("JsonlSink needs { path: string, append?: boolean }");
    this.path = options.path.replaceAll("{instance}", String(this.ctx.instanceIndex));
    this.#append = options.append ?? true;
  }

  open(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    this.#stream = createWriteStream(this.path, { flags: this.#append ? "a" : "w" });
    this.#stream.on("error", (error) => (this.#error ??= error));
  }

  execute(record: T): void | Promise<void> {
    if (this.#error) throw this.#failure();
    const line = JSON.stringify(record);
    if (line === undefined) throw new TypeError(`JsonlSink: a ${typeof record} cannot be written as JSON`);
    if (this.#stream === undefined) this.open();
    if (this.#stream!.write(`${line}\n`)) return;
    return new Promise((resolve, reject) => {
      const stream = this.#stream!;
      const done = () => {
        stream.off("drain", done);
        stream.off("error", done);
        if (this.#error) reject(this.#failure());
        else resolve();
      };
      stream.on("drain", done);
      stream.on("error", done);
    });
  }

  async close(): Promise<void> {
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream !== undefined && !stream.destroyed) {
      await new Promise<void>((resolve) => {
        stream.once("close", resolve);
        stream.end();
      });
    }
    if (this.#error) throw this.#failure();
  }

  #failure(): Error {
    return new Error(`JsonlSink: cannot write ${this.path}: ${this.#error!.message}`, { cause: this.#error });
  }
}
