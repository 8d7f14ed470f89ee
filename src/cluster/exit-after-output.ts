// A child's stdout and stderr are sockets written asynchronously once their buffer is full (a
// few hundred short lines): process.exit() drops whatever is still queued in this process.

// How long an exit waits for its output at most: a reader that stopped reading must not keep the process.
const FLUSH_MAX_MS = 5_000;

/** Resolves once everything written to stdout and stderr so far has been handed to the OS. */
export function flushStdio(): Promise<void> {
  return Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write("", () => resolve())))).then(() => undefined);
}

/** Exits with `code` once stdout and stderr are flushed, or after `maxMs` if they cannot be. */
export function exitAfterOutput(code: number, maxMs = FLUSH_MAX_MS): void {
  setTimeout(() => process.exit(code), maxMs).unref();
  void flushStdio().then(() => process.exit(code));
}
