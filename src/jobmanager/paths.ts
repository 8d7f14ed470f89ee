import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

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
    log: join(dataDir, "jobmanager.log"),
    database: join(dataDir, "jobs.db"),
    jobDir: (id: string) => join(dataDir, "jobs", id),
  };
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
