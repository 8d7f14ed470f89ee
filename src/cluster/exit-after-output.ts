import { Writable } from "node:stream";

// A child's stdout and stderr are sockets written asynchronously once their buffer is full (a
// few hundred short lines): process.exit() drops whatever is still queued in this process.

// How long a flush waits at most: a reader that stopped reading must not keep the process.
const FLUSH_MAX_MS = 5_000;

/**
 * Resolves once everything written to stdout and stderr so far has been handed to the OS, or
 * after `maxMs`. It writes through the streams' own class: a job that replaced
 * `process.stdout.write` (to silence a library) may never call a callback.
 */
export function flushStdio(maxMs = FLUSH_MAX_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const flushed = Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => Writable.prototype.write.call(stream, "", "utf8", () => resolve()))));
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)));
  return Promise.race([flushed, late]).then(() => clearTimeout(timer));
}

/** Exits with `code` once stdout and stderr are flushed (see flushStdio). */
export function exitAfterOutput(code: number): void {
  void flushStdio().then(() => process.exit(code));
}
