import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { splitLines } from "./line-splitter.js";

/** Sends every line a child prints on stdout and stderr to `onLine`, each cut to `maxLineBytes`. */
export function readOutput(child: ChildProcess, maxLineBytes: number, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) if (stream) splitLines(stream, maxLineBytes, onLine);
}

/**
 * Waits until a child's pipes (its output, its report channel) are read to their end: after the
 * process exited, what it wrote last is still in the pipes, and on a loaded machine reading it can
 * take a while, so the wait lasts while data keeps coming (`idleMs` without any ends it). A process
 * that inherited the pipes can keep them open, and writing, for ever: after `maxMs` in all they
 * are closed unread.
 */
export async function drainOutput(pipes: ReadonlyArray<Readable | null>, idleMs: number, maxMs: number): Promise<void> {
  const streams = pipes.filter((stream): stream is Readable => stream !== null && !stream.destroyed && !stream.readableEnded);
  let idle: NodeJS.Timeout | undefined;
  let cap: NodeJS.Timeout | undefined;
  let done = false;
  const ended = Promise.all(streams.map((stream) => new Promise((resolve) => stream.once("close", resolve))));
  const givenUp = new Promise<void>((resolve) => {
    let chunks = 0;
    const rearm = () => {
      if (done) return;
      clearTimeout(idle);
      const seen = chunks;
      // Timers run before the loop polls for I/O: after a stall, data may be waiting although the
      // timer is due. One more turn lets the poll read it; only a turn with nothing new ends the wait.
      idle = setTimeout(() => setImmediate(() => (chunks === seen ? resolve() : rearm())), idleMs);
    };
    rearm();
    cap = setTimeout(resolve, maxMs);
    for (const stream of streams) stream.on("data", () => chunks++);
  });
  await Promise.race([ended, givenUp]);
  done = true;
  clearTimeout(idle);
  clearTimeout(cap);
  for (const stream of streams) stream.destroy();
  // A pipe's last partial line is handed on at its close (a turn after destroy()): before this resolves.
  await ended;
}
