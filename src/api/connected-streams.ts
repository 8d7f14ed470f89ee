import type { DataStream as DataStreamType } from "./datastream.js";
import type { BaseEnvironment } from "./environment.js";
import { PipelineDefinitionError } from "./errors.js";
import { printSink } from "./print.js";
import type { CoMapArg, JoinArg, KeyByArg, MapArg, SinkArg } from "./function-types.js";
import type { OperatorOptions } from "./types.js";

/** Several streams joined for a multi-input operator; stream i is input i. */
export class ConnectedStreams {
  /** @internal */
  constructor(
    readonly env: BaseEnvironment,
    readonly streams: readonly DataStreamType<any>[],
  ) {
    if (streams.length < 2) throw new PipelineDefinitionError("connected streams need at least two streams");
    for (const stream of streams) {
      if (stream.env !== env) throw new PipelineDefinitionError("cannot connect streams of different environments");
    }
  }

  /** Maps input i with `fns[i]` (or the class's `map<i>`), merging the results into one stream. */
  coMap<U>(fns: CoMapArg<U>, options?: OperatorOptions): DataStreamType<Awaited<U>> {
    return this.#then<Awaited<U>>("coMap", fns, options);
  }

  /** Maps the records of every input with one function, merging them into one stream (the original's `map`). */
  map<U>(fn: MapArg<any, U>, options?: OperatorOptions): DataStreamType<Awaited<U>> {
    return this.#then<Awaited<U>>("map", fn, options);
  }

  /** Keys every input: one selector for all, or one per input. */
  keyBy(selectors: KeyByArg<any, unknown> | Array<KeyByArg<any, unknown>>, options?: Omit<OperatorOptions, "parallelism" | "concurrency">): ConnectedStreams {
    if (Array.isArray(selectors) && selectors.length !== this.streams.length) {
      throw new PipelineDefinitionError(`keyBy got ${selectors.length} key selectors for ${this.streams.length} connected streams`);
    }
    const keyed = this.streams.map((stream, i) =>
      stream.keyBy(Array.isArray(selectors) ? selectors[i]! : selectors, options?.name ? { ...options, name: `${options.name}_${i}` } : options),
    );
    return connectedOf(this.env, keyed);
  }

  /**
   * Joins keyed inputs: `fn(payload, key, tag)` (or a JoinFunction's `execute`) runs for every record,
   * with `tag` its input index, and returns the records to emit. Keep join state in the function.
   */
  join<U>(fn: JoinArg<U>, options?: OperatorOptions): DataStreamType<U> {
    return this.#then<U>("join", fn, options);
  }

  /** Connects more streams. */
  connect(other: DataStreamType<any> | ConnectedStreams): ConnectedStreams {
    const others = isConnectedStreams(other) ? other.streams : [other];
    return connectedOf(this.env, [...this.streams, ...others]);
  }

  /** Consumes the records of every input with one sink. */
  sink(fn: SinkArg<any>, options?: OperatorOptions): ConnectedStreams {
    this.env._addTransformation("sink", fn, this.streams.map((s) => s.transformation), options ?? {});
    return this;
  }

  /** Prints the records of every input. */
  print(prefix?: string, options?: OperatorOptions): ConnectedStreams {
    return this.sink(printSink(prefix), { name: "Print", ...options });
  }

  #then<U>(kind: "coMap" | "join" | "map", fn: unknown, options: OperatorOptions = {}): DataStreamType<U> {
    const transformation = this.env._addTransformation(kind, fn, this.streams.map((s) => s.transformation), options);
    return this.env._streamOf<U>(transformation);
  }
}

// Outside the class: a class that names itself in its own body is renamed by the bundler
// (`class _ConnectedStreams`), and stack frames would show that name.
function connectedOf(env: BaseEnvironment, streams: Array<DataStreamType<any>>): ConnectedStreams {
  return new ConnectedStreams(env, streams);
}

function isConnectedStreams(value: unknown): value is ConnectedStreams {
  return value instanceof ConnectedStreams;
}
