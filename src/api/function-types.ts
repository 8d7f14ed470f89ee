import type { EndOfStream } from "./end-of-stream.js";
import type {
  BatchFunction,
  CoMapFunction,
  FilterFunction,
  FlatMapFunction,
  JoinFunction,
  KeyByFunction,
  MapFunction,
  SinkFunction,
  SourceFunction,
} from "./functions.js";
import type { FunctionContext } from "./types.js";

/** A class whose instances are `F`, constructed with the operator's `args`. */
export type ClassOf<F> = new (...args: any[]) => F;

/** `map` accepts a plain function or a MapFunction class. */
export type MapArg<T, U> = ((data: T, ctx: FunctionContext) => U | Promise<U>) | ClassOf<MapFunction<T, U>>;
/** `filter` accepts a predicate or a FilterFunction class. */
export type FilterArg<T> = ((data: T, ctx: FunctionContext) => unknown) | ClassOf<FilterFunction<T>>;
/** A function class made for several operator kinds, listed in its static `operatorKinds` (a generator that streams, say). */
export type MultiKindClassOf<F> = ClassOf<F> & { readonly operatorKinds: readonly string[] };
/** `flatMap` accepts a function returning an iterable, a FlatMapFunction class, or a class that lists `flatMap` among its `operatorKinds`. */
export type FlatMapArg<T, U> =
  | ((data: T, ctx: FunctionContext) => Iterable<U> | AsyncIterable<U> | Promise<Iterable<U>> | null | undefined)
  | ClassOf<FlatMapFunction<T, U>>
  | MultiKindClassOf<MapFunction<T, unknown>>;
/** `keyBy` accepts a key selector or a KeyByFunction class. */
export type KeyByArg<T, K> = ((data: T, ctx: FunctionContext) => K) | ClassOf<KeyByFunction<T, K>>;
/** `sink` accepts a consumer or a SinkFunction class. */
export type SinkArg<T> = ((data: T, ctx: FunctionContext) => unknown) | ClassOf<SinkFunction<T>>;
/** `coMap` accepts one function per input or a CoMapFunction class. */
export type CoMapArg<U> = Array<(data: any, ctx: FunctionContext) => U | Promise<U>> | ClassOf<CoMapFunction<U>>;
/** `join` accepts `(payload, key, tag, ctx) => records` or a JoinFunction class. */
export type JoinArg<U> =
  | ((payload: any, key: any, tag: number, ctx: FunctionContext) => Iterable<U> | null | undefined | void | Promise<Iterable<U> | null | undefined | void>)
  | ClassOf<JoinFunction<any, any, U>>;

/** What `fromBatch` accepts. */
export type BatchSource<T> =
  | readonly T[]
  | Iterable<T>
  | AsyncIterable<T>
  | (() => Iterable<T> | AsyncIterable<T>)
  | ClassOf<BatchFunction<T>>;

/** What `fromSource` accepts. */
export type UnboundedSource<T> =
  | ClassOf<SourceFunction<T>>
  | AsyncIterable<T>
  | Iterable<T>
  | ((ctx: FunctionContext) => Iterable<T> | AsyncIterable<T>);

/** The values a SourceFunction may return. */
export type SourceResult<T> = T | undefined | EndOfStream;
