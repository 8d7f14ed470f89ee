/**
 * Carries the values JSON loses (NaN, ±Infinity, -0, undefined) through a JSON line as tagged
 * objects (`{ "$sage": "NaN" }`, ...), so the modes that return results as printed JSON compare
 * them exactly with the local results.
 */

/** Replaces the values JSON cannot carry by tagged objects. */
export function encodeSpecials(value: unknown): unknown {
  if (value === undefined) return { $sage: "undefined" };
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $sage: "NaN" };
    if (value === Infinity) return { $sage: "Infinity" };
    if (value === -Infinity) return { $sage: "-Infinity" };
    if (Object.is(value, -0)) return { $sage: "-0" };
    return value;
  }
  if (Array.isArray(value)) return value.map(encodeSpecials);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeSpecials(v)]));
  return value;
}

const SPECIALS: Record<string, unknown> = { undefined, NaN: Number.NaN, Infinity, "-Infinity": -Infinity, "-0": -0 };

/** The inverse of encodeSpecials. */
export function decodeSpecials(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeSpecials);
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$sage") return SPECIALS[(value as { $sage: string }).$sage];
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeSpecials(v)]));
  }
  return value;
}

/** Orders records by their JSON text, for comparing results whose order is not defined. */
export const byValue = (a: unknown, b: unknown) => (JSON.stringify(a) ?? "").localeCompare(JSON.stringify(b) ?? "");
