import { adoptContext } from "./context.js";
import type { EndOfStream } from "./end-of-stream.js";
import type { FunctionContext, Logger, ServiceCallOptions, ServiceProxy } from "./types.js";

/** Base of every function class: gives `ctx`, `logger`, `service()` and `callService()`. */
export abstract class BaseFunction {
  /** The running instance's context (name, jobId, instanceIndex, parallelism, logger, signal, services). */
  readonly ctx: FunctionContext;

  constructor() {
    this.ctx = adoptContext(new.target.name);
  }

  /** The job logger, named after this operator instance. */
  get logger(): Logger {
    return this.ctx.logger;
  }

  /** This instance's name, e.g. `Upper_0`. */
  get name(): string {
    return this.ctx.name;
  }

  /** Calls `method` of service `serviceName`; answers directly when the service can, else a Promise. */
  callService<R = unknown>(serviceName: string, method: string, ...args: unknown[]): R | Promise<R> {
    return this.ctx.callService<R>(serviceName, method, ...args);
  }

  /** A typed proxy on service `serviceName`. */
  service<S = any>(serviceName: string, options?: ServiceCallOptions): ServiceProxy<S> {
    return this.ctx.service<S>(serviceName, options);
  }

  // Lifecycle hooks are not declared here, so subclasses need no `override`: define
  // `open()` (called before the first record) and/or `close()` (after the last one), sync or async.
}

/** A bounded source: `execute()` returns the next record, or null/undefined when exhausted. */
export abstract class BatchFunction<T = unknown> extends BaseFunction {
  abstract execute(): T | null | undefined | Promise<T | null | undefined>;
  /** How far it has read, when it knows its size (undefined until it does): shown as percent done and ETA (unit: records by default). */
  progress?(): SourceProgressReport | undefined;
}

/** What a source's optional `progress()` answers. */
export interface SourceProgressReport {
  done: number;
  total: number;
  unit?: "records" | "bytes";
}

/**
 * An unbounded source: `execute()` returns a record, nothing for "no record now", or
 * END_OF_STREAM to end the stream.
 */
export abstract class SourceFunction<T = unknown> extends BaseFunction {
  abstract execute(): T | undefined | EndOfStream | Promise<T | undefined | EndOfStream>;
  /** How far it has read, when it knows its size (see BatchFunction.progress). */
  progress?(): SourceProgressReport | undefined;
}

/** One record in, one record out (`undefined` emits nothing). */
export abstract class MapFunction<T = any, U = any> extends BaseFunction {
  abstract execute(data: T): U | Promise<U>;
}

/** Keeps the records for which `execute` is truthy. */
export abstract class FilterFunction<T = any> extends BaseFunction {
  abstract execute(data: T): boolean | Promise<boolean>;
}

/** Emits records through the collector passed to `execute`. */
export interface Collector<U> {
  collect(record: U): void;
}

/** One record in, any number out: call `collector.collect(x)` or return an iterable. */
export abstract class FlatMapFunction<T = any, U = any> extends BaseFunction {
  abstract execute(
    data: T,
    collector: Collector<U>,
  ): Iterable<U> | AsyncIterable<U> | void | Promise<Iterable<U> | void>;
}

/** Extracts the partitioning key; records with equal keys reach the same downstream instance. */
export abstract class KeyByFunction<T = any, K = unknown> extends BaseFunction {
  abstract execute(data: T): K;
}

/** Consumes records at the end of a stream. */
export abstract class SinkFunction<T = any> extends BaseFunction {
  abstract execute(data: T): void | Promise<void>;
}

/** Maps each input of connected streams with its own method: input i goes to `map<i>`. */
export abstract class CoMapFunction<U = any> extends BaseFunction {
  abstract map0(data: any): U | Promise<U>;
  abstract map1(data: any): U | Promise<U>;
  [method: `map${number}`]: ((data: any) => U | Promise<U>) | undefined;
}

/** Joins keyed connected streams: `execute(payload, key, tag)` with `tag` the input index. */
export abstract class JoinFunction<T = any, K = any, U = any> extends BaseFunction {
  abstract execute(payload: T, key: K, tag: number): Iterable<U> | U[] | null | undefined | void | Promise<Iterable<U> | null | undefined | void>;
}
