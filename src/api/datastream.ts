import { ConnectedStreams } from "./connected-streams.js";
import type { BaseEnvironment } from "./environment.js";
import { PipelineDefinitionError } from "./errors.js";
import { printSink } from "./print.js";
import type { FilterArg, FlatMapArg, KeyByArg, MapArg, SinkArg } from "./function-types.js";
import type { Transformation } from "./transformation.js";
import type { OperatorOptions } from "./types.js";

/**
 * A stream of records of type `T`; every operator returns a new stream (sink and print return this one).
 * @example
 * env.fromBatch(docs).map(embed).keyBy((d) => d.topic).map(answer).sink(save);
 */
export class DataStream<T = unknown> {
  /** @internal */
  constructor(
    readonly env: BaseEnvironment,
    readonly transformation: Transformation,
  ) {}

  /** One record in, one out; a result of `undefined` emits nothing. */
  map<U>(fn: MapArg<T, U>, options?: OperatorOptions): DataStream<Awaited<U>> {
    return this.#then<Awaited<U>>("map", fn, options);
  }

  /** Keeps the records for which `fn` is truthy. */
  filter(fn: FilterArg<T>, options?: OperatorOptions): DataStream<T> {
    return this.#then<T>("filter", fn, options);
  }

  /** One record in, any number out (a returned string counts as one record). */
  flatMap<U>(fn: FlatMapArg<T, U>, options?: OperatorOptions): DataStream<U> {
    return this.#then<U>("flatMap", fn, options);
  }

  /**
   * Partitions by key: records with equal keys reach the same downstream instance
   * (a stable hash, so `0`, `""` and `false` are keys like any other).
   * @example
   * stream.keyBy((order) => order.userId).map(new RunningTotal(), { parallelism: 4 });
   */
  keyBy<K>(fn: KeyByArg<T, K>, options?: Omit<OperatorOptions, "parallelism" | "concurrency">): DataStream<T> {
    return this.#then<T>("keyBy", fn, options);
  }

  /** Consumes each record; returns this stream, so more operators can hang off it. */
  sink(fn: SinkArg<T>, options?: OperatorOptions): DataStream<T> {
    this.#then("sink", fn, options);
    return this;
  }

  /** Prints each record to stdout (strings as they are, other values inspected); returns this stream. */
  print(prefix?: string, options?: OperatorOptions): DataStream<T> {
    return this.sink(printSink(prefix), { name: "Print", ...options });
  }

  /** Connects this stream with `other` (or further connected streams); input 0 is this one. */
  connect<U>(other: DataStream<U> | ConnectedStreams): ConnectedStreams {
    const others = other instanceof ConnectedStreams ? other.streams : [other];
    return new ConnectedStreams(this.env, [this, ...others]);
  }

  /** Closes the `fromFuture` placeholder `future` with this stream, forming a feedback loop. */
  fillFuture(future: DataStream<T>): void {
    const placeholder = future.transformation;
    if (future.env !== this.env) throw new PipelineDefinitionError("fillFuture: the future belongs to another environment");
    if (placeholder.kind !== "future") {
      throw new PipelineDefinitionError(`fillFuture: '${placeholder.name}' is a ${placeholder.kind} stream, not a fromFuture placeholder`);
    }
    if (placeholder.filledBy) {
      throw new PipelineDefinitionError(`fillFuture: future '${placeholder.name}' is already filled by '${placeholder.filledBy.name}'`);
    }
    placeholder.filledBy = this.transformation;
  }

  #then<U>(kind: Transformation["kind"], fn: unknown, options: OperatorOptions = {}): DataStream<U> {
    const transformation = this.env._addTransformation(kind, fn, [this.transformation], options);
    return streamOf<U>(this.env, transformation);
  }
}

// Outside the class: a class that names itself in its own body is renamed by the bundler
// (`class _DataStream`), and stack frames would show that name.
function streamOf<U>(env: DataStream["env"], transformation: Transformation): DataStream<U> {
  return new DataStream<U>(env, transformation);
}
