import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { isAlive } from "../cluster/process-alive.js";

/** The default data directory: `$SAGE_HOME/jobmanager`, else `~/.sage/jobmanager`. */
export function defaultDataDir(): string {
  return join(process.env.SAGE_HOME ?? join(homedir(), ".sage"), "jobmanager");
}

/** Where a JobManager keeps its files under its data directory. */
export function dataPaths(dataDir: string) {
  return {
    dataDir,
    token: join(dataDir, "token"),
    pid: join(dataDir, "jobmanager.pid"),
    lock: join(dataDir, "jobmanager.lock"),
    log: join(dataDir, "jobmanager.log"),
    database: join(dataDir, "jobs.db"),
    bundles: join(dataDir, "bundles"),
    jobDir: (id: string) => join(dataDir, "jobs", checkJobId(id)),
  };
}

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` has the form of the ids a JobManager gives its jobs (a UUID). */
export function isJobId(id: string): boolean {
  return JOB_ID.test(id);
}

// Paths are only ever built from ids the server made: anything else could climb out of the data dir.
function checkJobId(id: string): string {
  if (!isJobId(id)) throw new Error(`'${id.slice(0, 80)}' is not a job id (a UUID made by the JobManager)`);
  return id;
}

/** Creates the data directory (owner-only). */
export function ensureDataDir(dataDir: string): void {
  mkdirSync(join(dataDir, "jobs"), { recursive: true, mode: 0o700 });
}

/** The token stored in `dataDir`, if any. */
export function readToken(dataDir: string): string | undefined {
  const file = dataPaths(dataDir).token;
  return existsSync(file) ? readFileSync(file, "utf8").trim() || undefined : undefined;
}

/** Stores `token` (or a new random one) in `dataDir` with owner-only permissions; returns it. */
export function storeToken(dataDir: string, token: string = randomBytes(24).toString("base64url")): string {
  ensureDataDir(dataDir);
  const file = dataPaths(dataDir).token;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/**
 * Claims the data directory for one server process: a second JobManager on the same directory
 * would mark the first one's running jobs failed. A lock left by a dead process is taken over.
 * Returns the release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = dataPaths(dataDir).lock;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx", mode: 0o600 });
      return () => {
        if (existsSync(file) && readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        const who = owner === process.pid ? "this process already runs a JobManager that uses" : `another JobManager (pid ${owner}) uses`;
        throw new Error(`${who} the data directory ${dataDir}`);
      }
      unlinkSync(file); // stale: its process is gone
    }
  }
  throw new Error(`cannot lock the data directory ${dataDir}`);
}
