import type { Readable } from "node:stream";

/** Cuts `text` to at most `maxBytes` bytes of UTF-8 without splitting a character. */
export function cutUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  return bytes.length <= maxBytes ? text : bytes.subarray(0, utf8Boundary(bytes, maxBytes)).toString("utf8");
}

/** The marker a cut line ends with: how many bytes of it were dropped. */
export function cutMarker(droppedBytes: number): string {
  return ` … [line cut: ${droppedBytes} bytes]`;
}

/**
 * Splits what a stream carries into lines while holding at most `maxLineBytes` of any line: the
 * rest of a longer line is counted, not kept, and the line ends with a cut marker. Whatever a job
 * prints (a gigabyte without a newline included), this holds a bounded amount of memory.
 */
export function splitLines(stream: Readable, maxLineBytes: number, onLine: (line: string) => void): void {
  let parts: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  // Copies what it keeps: a slice would pin the whole chunk (up to 64 KiB) in memory.
  const keep = (chunk: Buffer) => {
    const taken = Math.min(chunk.length, maxLineBytes - kept);
    if (taken > 0) parts.push(Buffer.from(chunk.subarray(0, taken)));
    kept += taken;
    dropped += chunk.length - taken;
  };
  const emit = () => {
    let line = Buffer.concat(parts);
    if (dropped === 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
    // A cut may fall inside a character: end at the last whole one and count the rest as dropped.
    const end = dropped > 0 ? utf8Boundary(line, line.length) : line.length;
    const text = line.subarray(0, end).toString("utf8");
    onLine(dropped > 0 ? text + cutMarker(dropped + line.length - end) : text);
    parts = [];
    kept = 0;
    dropped = 0;
  };
  stream.on("data", (chunk: Buffer) => {
    let from = 0;
    for (let newline = chunk.indexOf(0x0a, from); newline !== -1; newline = chunk.indexOf(0x0a, from)) {
      keep(chunk.subarray(from, newline));
      emit();
      from = newline + 1;
    }
    if (from < chunk.length) keep(chunk.subarray(from));
  });
  // On close, not end: a pipe closed unread (see drainOutput) still gives its last partial line.
  stream.on("close", () => {
    if (kept > 0 || dropped > 0) emit();
  });
}

// The largest index <= `limit` that does not fall inside a UTF-8 sequence of `bytes`.
function utf8Boundary(bytes: Buffer, limit: number): number {
  let end = Math.min(limit, bytes.length);
  let back = end;
  while (back > 0 && back > end - 4 && (bytes[back - 1]! & 0xc0) === 0x80) back--;
  if (back === 0) return end;
  const lead = bytes[back - 1]!;
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  // The sequence that starts at back-1 is complete if it fits before `end`.
  if (length > 1 && back - 1 + length > end) end = back - 1;
  return end;
}
