import { createRequire } from "node:module";
import { join } from "node:path";

/**
 * Loads a package with a native addon (usearch, better-sqlite3), which cannot be bundled. A job
 * that travels as a bundle runs from a directory outside the project, where a lookup next to the
 * code finds nothing; the process's own script (the installed sage) and the working directory are
 * the places that do.
 */
export function requireNative<T>(name: string): T {
  const origins = [import.meta.url, process.argv[1], join(process.cwd(), "index.js")].filter((o): o is string => typeof o === "string" && o !== "");
  let first: unknown;
  for (const origin of origins) {
    try {
      return createRequire(origin)(name) as T;
    } catch (error) {
      first ??= error;
    }
  }
  throw new Error(`cannot load the package '${name}' (is it installed?): ${first instanceof Error ? first.message.split("\n")[0] : String(first)}`);
}
