/**
 * W3: a service-call-bound pipeline. Each record does one get and one put on an in-process
 * key-value service (4096 keys) and emits the key's new value.
 */
import type { KvService } from "./kv-service.js";

/** Input records of a full run. */
export const W3_RECORDS = 1_000_000;
/** Distinct keys of the store. */
export const W3_KEYS = 4096;

/** The key of record `x`. */
export const w3Key = (x: number): number => x & (W3_KEYS - 1);

/** The per-record work against a directly held store: get, add, put; returns the new value. */
export function w3Step(kv: KvService, x: number): number {
  const key = w3Key(x);
  const value = (kv.get(key) ?? 0) + x;
  kv.put(key, value);
  return value;
}

/** The source as a generator: 0..n-1. */
export function* w3Source(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}
