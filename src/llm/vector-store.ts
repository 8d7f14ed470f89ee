import { BaseService } from "../api/service.js";

/** One entry of a VectorStore. */
export interface VectorEntry {
  id: string;
  vector: number[];
  text?: string;
  metadata?: Record<string, unknown>;
}

/** One search result, best first. */
export interface VectorMatch {
  id: string;
  /** Cosine similarity, from -1 to 1. */
  score: number;
  text?: string;
  metadata?: Record<string, unknown>;
}

/** Options of a VectorStore. */
export interface VectorStoreOptions {
  /** A SQLite file: entries are kept there and loaded again at setup; in memory only when omitted. */
  path?: string;
}

/** Options of one search. */
export interface SearchOptions {
  /** Only entries whose metadata has each of these values (compared with ===). */
  filter?: Record<string, unknown>;
}

interface Stored {
  entry: VectorEntry;
  norm: number;
}

/**
 * Exact cosine search over vectors in memory, persisted in SQLite when given a path; a service,
 * so every operator instance (and, with `remote: true`, every worker) shares one index.
 */
export class VectorStore extends BaseService {
  readonly #entries = new Map<string, Stored>();
  readonly #path: string | undefined;
  #db: import("better-sqlite3").Database | undefined;
  #dimensions: number | undefined;

  constructor(options: VectorStoreOptions = {}) {
    super();
    this.#path = options.path;
  }

  async setup(): Promise<void> {
    if (this.#path === undefined) return;
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(this.#path);
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL, text TEXT, metadata TEXT)");
    for (const row of db.prepare("SELECT id, vector, text, metadata FROM vectors").all() as Array<{ id: string; vector: Buffer; text: string | null; metadata: string | null }>) {
      const vector = Array.from(new Float64Array(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength / 8));
      this.#put({ id: row.id, vector, ...(row.text !== null && { text: row.text }), ...(row.metadata !== null && { metadata: JSON.parse(row.metadata) as Record<string, unknown> }) });
    }
    this.#db = db;
  }

  cleanup(): void {
    this.#db?.close();
    this.#db = undefined;
  }

  /** Adds or replaces entries (by id); all vectors of a store have one length. */
  add(entries: VectorEntry[]): number {
    if (!Array.isArray(entries)) throw new TypeError("VectorStore.add takes an array of { id, vector, text?, metadata? }");
    for (const entry of entries) this.#check(entry);
    const insert = this.#db?.prepare("INSERT OR REPLACE INTO vectors (id, vector, text, metadata) VALUES (?, ?, ?, ?)");
    const write = () => {
      for (const entry of entries) {
        this.#put(entry);
        insert?.run(entry.id, Buffer.from(new Float64Array(entry.vector).buffer), entry.text ?? null, entry.metadata === undefined ? null : JSON.stringify(entry.metadata));
      }
    };
    if (this.#db) this.#db.transaction(write)();
    else write();
    return this.#entries.size;
  }

  /** The `k` entries most similar to `vector` (cosine), best first. */
  search(vector: number[], k = 4, options: SearchOptions = {}): VectorMatch[] {
    if (!Array.isArray(vector) || (this.#dimensions !== undefined && vector.length !== this.#dimensions)) {
      throw new TypeError(`VectorStore.search needs a vector of ${this.#dimensions ?? "the store's"} numbers${Array.isArray(vector) ? `, not ${vector.length}` : ""}`);
    }
    const norm = Math.hypot(...vector);
    const filter = options.filter ? Object.entries(options.filter) : [];
    const matches: VectorMatch[] = [];
    for (const { entry, norm: entryNorm } of this.#entries.values()) {
      if (filter.some(([key, value]) => entry.metadata?.[key] !== value)) continue;
      let dot = 0;
      for (let i = 0; i < vector.length; i++) dot += vector[i]! * entry.vector[i]!;
      const score = norm === 0 || entryNorm === 0 ? 0 : dot / (norm * entryNorm);
      matches.push({ id: entry.id, score, ...(entry.text !== undefined && { text: entry.text }), ...(entry.metadata !== undefined && { metadata: entry.metadata }) });
    }
    return matches.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, Math.max(0, k));
  }

  /** How many entries it holds. */
  size(): number {
    return this.#entries.size;
  }

  #check(entry: VectorEntry): void {
    if (entry === null || typeof entry !== "object" || typeof entry.id !== "string" || !Array.isArray(entry.vector) || !entry.vector.every(Number.isFinite)) {
      throw new TypeError("VectorStore.add: each entry needs a string id and a vector of finite numbers");
    }
    const dimensions = this.#dimensions ?? entry.vector.length;
    if (entry.vector.length !== dimensions) throw new TypeError(`VectorStore.add: entry '${entry.id}' has ${entry.vector.length} numbers, the store's vectors have ${dimensions}`);
  }

  #put(entry: VectorEntry): void {
    this.#dimensions ??= entry.vector.length;
    this.#entries.set(entry.id, { entry, norm: Math.hypot(...entry.vector) });
  }
}
