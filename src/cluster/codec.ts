import { deserialize, serialize } from "node:v8";

/**
 * Encodes a value for the wire between processes of one cluster. V8's structured serialization
 * keeps what JSON loses (undefined, NaN, ±Infinity, -0, BigInt, Date, Map, Set, typed arrays,
 * cycles); functions and class prototypes do not travel, as with structured clone.
 */
export function encode(value: unknown): Uint8Array {
  return serialize(value);
}

/** Decodes what `encode` made. */
export function decode<T = unknown>(bytes: Uint8Array): T {
  return deserialize(bytes) as T;
}
