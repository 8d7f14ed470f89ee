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

/** A key that cannot be hashed by content (it refers to itself). */
export class UnhashableKeyError extends TypeError {}

// Object keys hash by content with sorted property names, so {a,b} and {b,a} meet. The sorted
// copies defeat JSON.stringify's own cycle check (each visit makes a new object), so the path
// from the root is tracked here: `holders` are the objects being written, `sources` what each
// was made from. An object met again on its own path is a cycle; one met twice elsewhere is not.
function canonicalJson(value: unknown): string {
  const holders: unknown[] = [];
  const sources: unknown[] = [];
  return JSON.stringify(value, function (this: unknown, _k, v: unknown) {
    let depth = holders.length;
    while (depth > 0 && holders[depth - 1] !== this) depth--;
    holders.length = sources.length = depth;
    if (typeof v === "bigint") return `${v}n`;
    if (v === null || typeof v !== "object") return v;
    if (sources.includes(v)) throw new UnhashableKeyError("a key with a circular reference, which cannot be hashed: keys are hashed by content, return plain data");
    const written = Array.isArray(v) ? v : Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    holders.push(written);
    sources.push(v);
    return written;
  });
}
