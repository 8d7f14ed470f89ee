import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Database } from "better-sqlite3";
import { requireNative } from "./native-module.js";

/** Where answers are kept between identical requests. */
export interface ResponseCache {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  /** Entries held. */
  readonly size: number;
  close(): void;
}

/** The cache key of a request: a SHA-256 of its JSON with keys sorted (so field order does not matter). */
export function cacheKey(request: unknown): string {
  return createHash("sha256").update(stableJSON(request)).digest("hex");
}

/** An in-memory cache (lives as long as the service). */
export function memoryCache(): ResponseCache {
  const entries = new Map<string, string>();
  return {
    get: (key) => {
      const text = entries.get(key);
      return text === undefined ? undefined : JSON.parse(text);
    },
    // Stored as JSON text so a caller that changes an answer cannot change the cached one.
    set: (key, value) => void entries.set(key, JSON.stringify(value)),
    get size() {
      return entries.size;
    },
    close: () => entries.clear(),
  };
}

/** A cache in a SQLite file (created with its folder when missing), kept across runs and processes. */
export async function sqliteCache(path: string): Promise<ResponseCache> {
  // Loaded where a bundled job can find it (see requireNative), not next to the bundle.
  const Sqlite = requireNative<typeof import("better-sqlite3")>("better-sqlite3");
  let db: Database | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Sqlite(path);
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 5000");
    db.exec("CREATE TABLE IF NOT EXISTS llm_responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at INTEGER NOT NULL)");
  } catch (error) {
    db?.close();
    throw cacheFileError(path, error);
  }
  const select = db.prepare<[string], { value: string }>("SELECT value FROM llm_responses WHERE key = ?");
  const insert = db.prepare("INSERT OR REPLACE INTO llm_responses (key, value, created_at) VALUES (?, ?, ?)");
  const count = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM llm_responses");
  return {
    get: (key) => {
      const row = select.get(key);
      return row === undefined ? undefined : JSON.parse(row.value);
    },
    set: (key, value) => void insert.run(key, JSON.stringify(value), Date.now()),
    get size() {
      return count.get()!.n;
    },
    close: () => db.close(),
  };
}

const DAMAGED = new Set(["SQLITE_NOTADB", "SQLITE_CORRUPT"]);

// The cache is only a copy of answers: a damaged file is safe to delete, and the message says so.
function cacheFileError(path: string, error: unknown): Error {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  const advice = typeof code === "string" && DAMAGED.has(code)
    ? "it is not a readable SQLite database (damaged, or another kind of file): delete it (the cache is rebuilt from new answers) or name another file"
    : "check that the path names a file whose folder can be written";
  return new Error(`the response cache '${path}' cannot be opened (${message}): ${advice}`, { cause: error });
}

function stableJSON(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : stableJSON(v))).join(",")}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJSON((value as Record<string, unknown>)[k])}`).join(",")}}`;
}
