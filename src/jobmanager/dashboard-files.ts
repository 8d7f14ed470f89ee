import { readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The page's policy: script and style only from the server's own files, never inline, so markup
 * that slipped into the page could not run; the event streams are WebSockets to the same server
 * ('self' covers ws: and wss: of the page's own host).
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** What the page route answers when the front-end was never built (the server runs from its sources). */
export const DASHBOARD_MISSING = "The JobManager's dashboard is not built: run `npm run build` in the sage package, then reload this page.\n";

/**
 * Where the built dashboard lies: `dist/dashboard` of the package, whether the server runs from
 * `dist/` (its sibling) or from the TypeScript sources (under the package root's `dist/`).
 */
export function defaultDashboardDir(): string {
  const relative = import.meta.url.endsWith(".ts") ? "../../dist/dashboard/" : "../dashboard/";
  return fileURLToPath(new URL(relative, import.meta.url));
}

/** A dashboard file ready to send: its bytes and headers. */
export interface DashboardFile {
  body: Buffer;
  headers: Record<string, string>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
};

// One path segment, no leading dot: nothing outside the folder, no hidden file, can be named.
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The page (`index.html`), a top-level file (`favicon.svg`) or a hashed asset (`assets/<name>`) of
 * the built dashboard in `dir`; undefined when there is no such file or its type is not one the
 * dashboard uses.
 */
export async function readDashboardFile(dir: string, name: string, options: { asset?: boolean } = {}): Promise<DashboardFile | undefined> {
  const type = TYPES[extname(name)];
  if (!FILE_NAME.test(name) || type === undefined) return undefined;
  const path = options.asset ? join(dir, "assets", name) : join(dir, name);
  try {
    if (!(await stat(path)).isFile()) return undefined;
    const body = await readFile(path);
    return { body, headers: { "content-type": type, "content-length": String(body.length), ...headersFor(name, options.asset === true) } };
  } catch {
    return undefined;
  }
}

// --- internal ---

function headersFor(name: string, asset: boolean): Record<string, string> {
  const common = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };
  // Asset names carry a hash of their content: a browser may keep them for good. The page
  // names the current ones, so it is always asked for again.
  if (asset) return { ...common, "cache-control": "public, max-age=31536000, immutable" };
  if (name === "index.html") return { ...common, "cache-control": "no-cache", "content-security-policy": DASHBOARD_CSP };
  return { ...common, "cache-control": "no-cache" };
}
