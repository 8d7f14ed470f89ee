/**
 * A stable 32-bit hash of a key: the same in every process and every run, so keyed records
 * meet on the same instance across workers. Falsy keys (0, "", false, null) hash like any other.
 */
export function stableHash(key: unknown): number {
  switch (typeof key) {
    case "number":
      return Number.isInteger(key) && key >= -0x80000000 && key <= 0x7fffffff ? mixInt(key | 0) : hashString(`n:${key}`);
    case "string":
      return hashString(key);
    case "boolean":
      return key ? 0x2545f491 : 0x4f6cdd1d;
    case "bigint":
      return hashString(`b:${key}`);
    case "undefined":
      return 0x1b873593;
    default:
      return key === null ? 0x3c6ef372 : hashString(`j:${canonicalJson(key)}`);
  }
}

/** The partition (0..count-1) a key belongs to. */
export function partitionOf(key: unknown, count: number): number {
  return stableHash(key) % count;
}

// murmur3 finalizer: spreads consecutive integers over all partitions.
function mixInt(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// FNV-1a over UTF-16 code units, then the murmur finalizer for avalanche.
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mixInt(h);
}

// Object keys hash by content with sorted property names, so {a,b} and {b,a} meet.
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : typeof v === "bigint"
        ? `${v}n`
        : v,
  );
}
