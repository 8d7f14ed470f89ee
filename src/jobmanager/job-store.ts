import { chmodSync, closeSync, existsSync, openSync } from "node:fs";
import Database from "better-sqlite3";
import type { JobState, JobStatus } from "../api/types.js";
import type { JobHistory } from "./job-history.js";

/** What the store keeps of a job. */
export interface JobRecord {
  id: string;
  name: string;
  state: JobState;
  options: Record<string, unknown>;
  status: JobStatus;
  /** The last log lines kept, and the number of the first of them (earlier ones were dropped). */
  logTail: string[];
  logBase?: number;
}

const ACTIVE_STATES = ["created", "running", "finishing"];

/** Job history in SQLite, so it survives restarts. */
export class JobStore {
  readonly #db: Database.Database;

  constructor(file: string) {
    ownerOnly(file);
    this.#db = new Database(file);
    this.#db.pragma("journal_mode = WAL");
    // SQLite gives -wal and -shm the database's mode when it creates them; these were made
    // before that file was owner-only, or by an older version.
    for (const extra of [`${file}-wal`, `${file}-shm`]) if (existsSync(extra)) chmodSync(extra, 0o600);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        options TEXT NOT NULL,
        status TEXT NOT NULL,
        log_tail TEXT NOT NULL DEFAULT '[]',
        log_base INTEGER NOT NULL DEFAULT 0
      )`);
    // Databases written before log_base existed get the column.
    const columns = (this.#db.prepare("PRAGMA table_info(jobs)").all() as Array<{ name: string }>).map((c) => c.name);
    if (!columns.includes("log_base")) this.#db.exec("ALTER TABLE jobs ADD COLUMN log_base INTEGER NOT NULL DEFAULT 0");
    // A table of its own: reading or listing jobs never parses their histories.
    this.#db.exec("CREATE TABLE IF NOT EXISTS job_history (id TEXT PRIMARY KEY, history TEXT NOT NULL)");
  }

  /** Inserts or replaces a job's record. */
  save(record: JobRecord): void {
    this.#db
      .prepare(
        `INSERT INTO jobs (id, name, state, submitted_at, options, status, log_tail, log_base) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, status = excluded.status, log_tail = excluded.log_tail, log_base = excluded.log_base`,
      )
      .run(
        record.id,
        record.name,
        record.state,
        record.status.submittedAt,
        JSON.stringify(record.options),
        JSON.stringify(record.status),
        JSON.stringify(record.logTail),
        record.logBase ?? 0,
      );
  }

  /** One job, or undefined. */
  get(id: string): JobRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as Row | undefined;
    return row && toRecord(row);
  }

  /** Every job, oldest first, without their logs (listing stays cheap however long the history). */
  list(): JobRecord[] {
    const rows = this.#db.prepare("SELECT id, name, state, submitted_at, options, status, '[]' AS log_tail, log_base FROM jobs ORDER BY submitted_at, rowid").all() as Row[];
    return rows.map(toRecord);
  }

  /** Keeps a job's metrics history (replacing the one kept before). */
  saveHistory(id: string, history: JobHistory): void {
    this.#db.prepare("INSERT INTO job_history (id, history) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET history = excluded.history").run(id, JSON.stringify(history));
  }

  /** A job's kept metrics history, or undefined. */
  history(id: string): JobHistory | undefined {
    const row = this.#db.prepare("SELECT history FROM job_history WHERE id = ?").get(id) as { history: string } | undefined;
    return row && (JSON.parse(row.history) as JobHistory);
  }

  /** Forgets a job, its history with it. */
  delete(id: string): void {
    this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM jobs WHERE id = ?").run(id);
      this.#db.prepare("DELETE FROM job_history WHERE id = ?").run(id);
    })();
  }

  /** Marks jobs that were running when the server went down as failed; returns their ids. */
  failInterrupted(reason: string, at: string): string[] {
    const rows = this.#db.prepare(`SELECT * FROM jobs WHERE state IN (${ACTIVE_STATES.map(() => "?").join(", ")})`).all(...ACTIVE_STATES) as Row[];
    for (const row of rows) {
      const record = toRecord(row);
      const status: JobStatus = { ...record.status, state: "failed", isRunning: false, tasks: 0, services: 0, endedAt: at, error: { message: reason } };
      this.save({ ...record, state: "failed", status });
    }
    return rows.map((row) => row.id);
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }
}

// The store holds each job's options, secrets in `env` included: nobody else may read it.
function ownerOnly(file: string): void {
  closeSync(openSync(file, "a", 0o600));
  chmodSync(file, 0o600);
}

interface Row {
  id: string;
  name: string;
  state: string;
  submitted_at: string;
  options: string;
  status: string;
  log_tail: string;
  log_base: number;
}

function toRecord(row: Row): JobRecord {
  return {
    id: row.id,
    name: row.name,
    state: row.state as JobState,
    options: JSON.parse(row.options) as Record<string, unknown>,
    // The row's id is the server's; a status is what a job reported, and never names another.
    status: { ...(JSON.parse(row.status) as JobStatus), id: row.id },
    logTail: JSON.parse(row.log_tail) as string[],
    logBase: row.log_base,
  };
}
