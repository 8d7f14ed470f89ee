import type { Database } from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { messageOf } from "../api/errors.js";
import { BaseService } from "../api/service.js";
import { AnnIndex, type AnnOptions } from "./ann-index.js";
import { requireNative } from "./native-module.js";
import { normalized, normOf, VectorRows, type ScoredRow } from "./vector-rows.js";

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
  /**
   * A SQLite file: entries are kept there and loaded again at setup; in memory only when omitted.
   * An approximate index is saved beside it (`<path>.usearch`) at cleanup and reused when it
   * matches the entries, else rebuilt from them.
   */
  path?: string;
  /**
   * `true`: always search approximately (usearch HNSW); `false`: always exactly; unset (default):
   * approximately once the store holds `approximateFrom` entries.
   */
  approximate?: boolean;
  /** Entries from which an unset `approximate` switches to the approximate index (default 10,000). */
  approximateFrom?: number;
  /** Tuning of the approximate index. */
  ann?: AnnOptions;
}

/** Options of one search. */
export interface SearchOptions {
  /** Only entries whose metadata has each of these values (compared with ===). */
  filter?: Record<string, unknown>;
  /** Scan every entry even when the store has an approximate index. */
  exact?: boolean;
}

// An approximate search with a filter asks the index for this many times k candidates.
const FILTER_OVERFETCH = 10;
// The index grows in slices of about this many milliseconds, so a big build never holds the thread.
const BUILD_SLICE_MS = 15;
// How long cleanup() waits for a build still under way before it leaves the index unsaved.
const BUILD_WAIT_MS = 8000;

/**
 * Cosine search over vectors in memory, persisted in SQLite when given a path; a service, so
 * every operator instance (and, with `remote: true`, every worker) shares one index. Exact below
 * `approximateFrom` entries; above, an HNSW index (usearch) proposes candidates and the store
 * scores them exactly. A filtered search over-fetches candidates and filters them, and scans
 * exactly when too few pass, so a filter never loses results that exist. The index is built in
 * the background, a slice per event-loop turn; rows it does not hold yet are scanned exactly.
 */
export class VectorStore extends BaseService {
  readonly #path: string | undefined;
  readonly #approximate: boolean | undefined;
  readonly #approximateFrom: number;
  readonly #annOptions: AnnOptions;
  readonly #ids: string[] = [];
  readonly #rowOf = new Map<string, number>();
  readonly #texts: Array<string | undefined> = [];
  readonly #metadata: Array<Record<string, unknown> | undefined> = [];
  #rows: VectorRows | undefined;
  #ann: AnnIndex | undefined;
  #annUnavailable = false;
  #annSaved = true;
  /** Rows the index does not hold as they are now (new or replaced), in the order they changed. */
  readonly #pending = new Set<number>();
  #building: Promise<void> | undefined;
  #closed = false;
  #db: Database | undefined;
  #generation = 0;
  readonly #counters = { searches: 0, approximateSearches: 0, exactFallbacks: 0 };

  constructor(options: VectorStoreOptions = {}) {
    super();
    this.#path = options.path;
    this.#approximate = options.approximate;
    this.#approximateFrom = options.approximateFrom ?? 10_000;
    this.#annOptions = options.ann ?? {};
    if (!Number.isInteger(this.#approximateFrom) || this.#approximateFrom < 1) {
      throw new RangeError(`VectorStore: approximateFrom must be a whole number of at least 1, not ${this.#approximateFrom}`);
    }
  }

  async setup(): Promise<void> {
    if (this.#path === undefined) return;
    const Database = requireNative<typeof import("better-sqlite3")>("better-sqlite3");
    mkdirSync(dirname(this.#path), { recursive: true });
    let db: Database;
    try {
      db = new Database(this.#path);
      db.pragma("journal_mode = WAL");
      db.exec("CREATE TABLE IF NOT EXISTS vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL, text TEXT, metadata TEXT)");
      db.exec("CREATE TABLE IF NOT EXISTS vector_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    } catch (error) {
      throw new Error(`VectorStore: cannot open ${this.#path}: ${messageOf(error)}`, { cause: error });
    }
    try {
      this.#loadRows(db);
    } catch (error) {
      db.close();
      throw error;
    }
    const meta = new Map((db.prepare("SELECT key, value FROM vector_meta").all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
    this.#generation = Number(meta.get("generation") ?? 0);
    this.#db = db;
    if (this.#wantsAnn()) this.#loadAnn(meta);
  }

  // Rows keep their rowid when replaced (upsert), so rowid order is the order rows were first added.
  // Each row is checked as add() checks a vector: one bad row would set the store's dimensions or
  // rank a NaN score above every real match.
  #loadRows(db: Database): void {
    const damaged = (what: string) => new Error(`VectorStore: ${this.#path} is damaged: ${what} (restore it, or remove it to start empty)`);
    let dimensions: number | undefined;
    for (const row of db.prepare("SELECT id, vector, text, metadata FROM vectors ORDER BY rowid").all() as Array<{ id: string; vector: Buffer; text: string | null; metadata: string | null }>) {
      if (!Buffer.isBuffer(row.vector) || row.vector.byteLength === 0 || row.vector.byteLength % 8 !== 0) throw damaged(`the vector of row '${row.id}' is not a list of 8-byte numbers`);
      const vector = new Float64Array(row.vector.buffer.slice(row.vector.byteOffset, row.vector.byteOffset + row.vector.byteLength));
      if (vector.length !== (dimensions ??= vector.length)) throw damaged(`row '${row.id}' has ${vector.length} numbers, the rows before it ${dimensions}`);
      if (!vector.every(Number.isFinite)) throw damaged(`the vector of row '${row.id}' holds a number that is not finite`);
      let metadata: Record<string, unknown> | undefined;
      try {
        metadata = row.metadata === null ? undefined : (JSON.parse(row.metadata) as Record<string, unknown>);
      } catch {
        throw damaged(`the metadata of row '${row.id}' is not JSON`);
      }
      this.#put(row.id, vector, row.text ?? undefined, metadata);
    }
  }

  async cleanup(): Promise<void> {
    if (this.#building) await Promise.race([this.waitUntilIndexed(), new Promise((resolve) => setTimeout(resolve, BUILD_WAIT_MS).unref())]);
    this.#closed = true;
    if (this.#db && this.#ann && !this.#annSaved && this.#pending.size === 0) {
      const digest = this.#ann.save(this.#annFile());
      const upsert = this.#db.prepare("INSERT INTO vector_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
      this.#db.transaction(() => {
        upsert.run("ann_generation", String(this.#generation));
        upsert.run("ann_config", JSON.stringify(this.#ann!.config));
        upsert.run("ann_digest", digest);
      })();
      this.#annSaved = true;
    }
    this.#db?.close();
    this.#db = undefined;
  }

  /** Adds or replaces entries (by id); all vectors of a store have one length. Answers the store's size. */
  add(entries: VectorEntry[]): number {
    if (!Array.isArray(entries)) throw new TypeError("VectorStore.add takes an array of { id, vector, text?, metadata? }");
    let dimensions = this.#rows?.dimensions;
    for (const entry of entries) dimensions = this.#check(entry, dimensions);
    if (this.#db) {
      const upsert = this.#db.prepare(
        "INSERT INTO vectors (id, vector, text, metadata) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET vector = excluded.vector, text = excluded.text, metadata = excluded.metadata",
      );
      const generation = this.#db.prepare("INSERT INTO vector_meta (key, value) VALUES ('generation', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
      this.#db.transaction(() => {
        for (const entry of entries) upsert.run(entry.id, Buffer.from(new Float64Array(entry.vector).buffer), entry.text ?? null, entry.metadata === undefined ? null : JSON.stringify(entry.metadata));
        generation.run(String(this.#generation + 1));
      })();
    }
    this.#generation++;
    // Memory changes only after the file took the entries: a failed write leaves both as they were.
    const changed = entries.map((entry) => this.#put(entry.id, entry.vector, entry.text, entry.metadata));
    if (this.#ann) this.#schedule(changed);
    else if (this.#wantsAnn()) this.#buildAnn();
    return this.#ids.length;
  }

  /** Resolves once the approximate index holds every entry (at once when there is none). */
  async waitUntilIndexed(): Promise<void> {
    while (this.#building) await this.#building;
  }

  /** The `k` entries most similar to `vector` (cosine), best first. */
  search(vector: number[], k = 4, options: SearchOptions = {}): VectorMatch[] {
    const rows = this.#rows;
    if (!Array.isArray(vector) || (rows !== undefined && vector.length !== rows.dimensions)) {
      throw new TypeError(`VectorStore.search needs a vector of ${rows?.dimensions ?? "the store's"} numbers${Array.isArray(vector) ? `, not ${vector.length}` : ""}`);
    }
    if (!vector.every(Number.isFinite)) throw new TypeError("VectorStore.search needs a vector of finite numbers (it has NaN or Infinity)");
    // A bad k must fail here: NaN reaches the native index as a size and ends the process.
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`VectorStore.search: k must be a whole number of 0 or more, not ${k}`);
    this.#counters.searches++;
    if (rows === undefined || k < 1) return [];
    const query = normalized(vector);
    const filter = options.filter ? Object.entries(options.filter) : [];
    const accept = filter.length === 0 ? undefined : (row: number) => filter.every(([key, value]) => this.#metadata[row]?.[key] === value);
    if (this.#ann && options.exact !== true && normOf(query) > 0) {
      const found = this.#approximateTop(query, k, accept);
      if (found.length >= Math.min(k, this.#ids.length)) return found.map((r) => this.#match(r));
      this.#counters.exactFallbacks++;
    }
    return rows.top(query, k, accept, this.#before).map((r) => this.#match(r));
  }

  /** How many entries it holds. */
  size(): number {
    return this.#ids.length;
  }

  /** Counters for the job's status: entries, searches, approximate ones, exact fallbacks, rows waiting for the index. */
  metrics(): Record<string, number> {
    return { entries: this.#ids.length, approximate: this.#ann ? 1 : 0, ...this.#counters, unindexed: this.#pending.size };
  }

  // --- internal ---

  #approximateTop(query: Float64Array, k: number, accept: ((row: number) => boolean) | undefined): ScoredRow[] {
    this.#counters.approximateSearches++;
    const wanted = accept === undefined ? k : Math.max(k * FILTER_OVERFETCH, k + 64);
    const found: ScoredRow[] = [];
    const rows = this.#rows!;
    for (const row of this.#ann!.search(new Float32Array(query), wanted)) {
      // A pending row may sit in the index at its old place: the scan below scores it.
      if (row < this.#ids.length && !this.#pending.has(row) && (accept === undefined || accept(row))) found.push({ row, score: rows.score(query, row) });
    }
    for (const row of this.#pending) if (accept === undefined || accept(row)) found.push({ row, score: rows.score(query, row) });
    // The index's float32 distances only propose: the order and scores are the exact ones.
    return found.sort((a, b) => b.score - a.score || (this.#before(a.row, b.row) ? -1 : 1)).slice(0, k);
  }

  readonly #before = (a: number, b: number): boolean => this.#ids[a]!.localeCompare(this.#ids[b]!) < 0;

  #match({ row, score }: ScoredRow): VectorMatch {
    const text = this.#texts[row];
    const metadata = this.#metadata[row];
    return { id: this.#ids[row]!, score, ...(text !== undefined && { text }), ...(metadata !== undefined && { metadata }) };
  }

  #check(entry: VectorEntry, dimensions: number | undefined): number {
    if (entry === null || typeof entry !== "object" || typeof entry.id !== "string" || !Array.isArray(entry.vector) || !entry.vector.every(Number.isFinite)) {
      throw new TypeError("VectorStore.add: each entry needs a string id and a vector of finite numbers");
    }
    const expected = dimensions ?? entry.vector.length;
    if (entry.vector.length !== expected) throw new TypeError(`VectorStore.add: entry '${entry.id}' has ${entry.vector.length} numbers, the store's vectors have ${expected}`);
    if (expected < 1) throw new TypeError(`VectorStore.add: entry '${entry.id}' has an empty vector`);
    return expected;
  }

  // Stores one entry in memory and answers its row.
  #put(id: string, vector: ArrayLike<number>, text: string | undefined, metadata: Record<string, unknown> | undefined): number {
    this.#rows ??= new VectorRows(vector.length);
    let row = this.#rowOf.get(id);
    if (row === undefined) {
      row = this.#ids.length;
      this.#ids.push(id);
      this.#rowOf.set(id, row);
    }
    this.#rows.set(row, vector);
    this.#texts[row] = text;
    this.#metadata[row] = metadata;
    return row;
  }

  #wantsAnn(): boolean {
    if (this.#approximate === false || this.#annUnavailable || this.#rows === undefined) return false;
    return this.#approximate === true || this.#ids.length >= this.#approximateFrom;
  }

  #annFile(): string {
    return `${this.#path}.usearch`;
  }

  #loadAnn(meta: Map<string, string>): void {
    const config = this.#newAnn()?.config;
    if (config === undefined) return;
    const fresh = meta.get("ann_generation") === String(this.#generation) && meta.get("ann_config") === JSON.stringify(config);
    const digest = meta.get("ann_digest");
    const loaded = fresh && digest !== undefined ? AnnIndex.load(this.#annFile(), config, digest) : undefined;
    if (loaded && loaded.size === this.#indexableRows().length) {
      this.#ann = loaded;
      this.#annSaved = true;
    } else {
      this.#buildAnn();
    }
  }

  #buildAnn(): void {
    const ann = this.#newAnn();
    if (ann === undefined) return;
    this.#ann = ann;
    this.#schedule(Array.from(this.#ids.keys()));
  }

  #schedule(rows: readonly number[]): void {
    for (const row of rows) {
      this.#pending.delete(row); // re-added last: the order of the latest change
      this.#pending.add(row);
    }
    this.#annSaved = false;
    this.#building ??= this.#build();
  }

  // Indexes the pending rows a slice at a time, yielding to the event loop between slices.
  async #build(): Promise<void> {
    const started = performance.now();
    const total = this.#pending.size;
    try {
      while (this.#pending.size > 0 && !this.#closed) {
        await nextTurn();
        const sliceEnd = performance.now() + BUILD_SLICE_MS;
        while (this.#pending.size > 0 && !this.#closed && performance.now() < sliceEnd) {
          const rows: number[] = [];
          for (const row of this.#pending) {
            rows.push(row);
            if (rows.length === 32) break;
          }
          this.#indexRows(rows);
          for (const row of rows) this.#pending.delete(row);
        }
      }
      if (total >= 1000 && this.#pending.size === 0) this.logger.info(`approximate index of ${this.#ann!.size} vectors built in ${Math.round(performance.now() - started)} ms`);
    } finally {
      this.#building = undefined;
    }
  }

  // A new index, or undefined (and exact search from now on) when usearch cannot load and was not required.
  #newAnn(): AnnIndex | undefined {
    try {
      return new AnnIndex(this.#rows!.dimensions, this.#annOptions);
    } catch (error) {
      if (this.#approximate === true || error instanceof RangeError) throw error;
      this.#annUnavailable = true;
      this.logger.warn(`searching exactly: ${(error as Error).message}`);
      return undefined;
    }
  }

  #indexableRows(): number[] {
    const rows: number[] = [];
    for (let row = 0; row < this.#ids.length; row++) if (!this.#rows!.isZero(row)) rows.push(row);
    return rows;
  }

  // Zero vectors stay out of the index (their cosine is 0 to everything); the exact fallback finds them.
  #indexRows(rows: readonly number[]): void {
    const rowsData = this.#rows!;
    const zero = rows.filter((row) => rowsData.isZero(row));
    const indexed = zero.length === 0 ? rows : rows.filter((row) => !rowsData.isZero(row));
    this.#ann!.remove(zero);
    this.#ann!.add(indexed, rowsData.float32(indexed));
  }
}
