/**
 * Returned by `SourceFunction.execute()` to end its stream. A registered symbol, so copies of
 * the package bundled into a job module still agree on it.
 */
export const END_OF_STREAM: unique symbol = Symbol.for("sage.endOfStream") as any;

/** The type of {@link END_OF_STREAM}. */
export type EndOfStream = typeof END_OF_STREAM;
