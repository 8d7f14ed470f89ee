import { createHash } from "node:crypto";
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Job bundles stored by content: `bundles/<sha256>.mjs` holds each distinct code once, and each
 * job's directory has a hard link to it. The file system counts the references: a bundle whose
 * only link is its own entry here is used by no job any more and is removed by {@link collect}.
 */
export class BundleStore {
  constructor(readonly directory: string) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
  }

  /** Stores `code` (once per content) and links it at `target` (a job's `job.mjs`); answers its hash. */
  place(code: string, target: string): string {
    const hash = createHash("sha256").update(code).digest("hex");
    const file = join(this.directory, `${hash}.mjs`);
    if (!existsSync(file)) writeFileSync(file, code, { mode: 0o600 });
    try {
      linkSync(file, target);
    } catch {
      copyFileSync(file, target); // a file system without hard links: correct, only not shared
    }
    return hash;
  }

  /** Removes the bundles no job links to any more; answers how many. */
  collect(): number {
    let removed = 0;
    for (const entry of readdirSync(this.directory)) {
      const file = join(this.directory, entry);
      try {
        if (statSync(file).nlink <= 1) {
          unlinkSync(file);
          removed++;
        }
      } catch {
        // removed meanwhile
      }
    }
    return removed;
  }
}
