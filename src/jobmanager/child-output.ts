import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { splitLines } from "../cluster/line-splitter.js";

/** Sends every line a child prints on stdout and stderr to `onLine`, each cut to `maxLineBytes`. */
export function readOutput(child: ChildProcess, maxLineBytes: number, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) if (stream) splitLines(stream, maxLineBytes, onLine);
}

/**
 * Waits until a child's pipes (its output, its report channel) are read to their end, `maxMs` at
 * most: after the process exited, what it wrote last is still in the pipes, but a process that
 * inherited them can keep them open for ever. After `maxMs` the pipes are closed unread.
 */
export async function drainOutput(pipes: ReadonlyArray<Readable | null>, maxMs: number): Promise<void> {
  const streams = pipes.filter((stream): stream is Readable => stream !== null && !stream.destroyed && !stream.readableEnded);
  let timer: NodeJS.Timeout | undefined;
  const ended = Promise.all(streams.map((stream) => new Promise((resolve) => stream.once("close", resolve))));
  await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, maxMs)))]);
  clearTimeout(timer);
  for (const stream of streams) stream.destroy();
}
