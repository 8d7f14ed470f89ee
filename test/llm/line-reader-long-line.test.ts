/** The line reader under JsonlSource and TextFileSource, on a file with one huge line. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LineReader } from "../../src/llm/line-reader.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** CPU time this process has used, ms (every thread: the file reads on libuv's pool too). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function readAll(path: string): Promise<number> {
  const reader = new LineReader(path);
  let lines = 0;
  for (;;) {
    const line = await reader.next();
    if (line === undefined) break;
    lines++;
  }
  await reader.close();
  return lines;
}

describe("LineReader on a huge line", () => {
  it("reads a 32 MiB line in linear time (a readFile takes ~30 ms; quadratic re-splitting takes seconds)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sage-lines-"));
    dirs.push(dir);
    const path = join(dir, "big.jsonl");
    const small = join(dir, "small.jsonl");
    writeFileSync(path, `${JSON.stringify({ text: "x".repeat(32 * 1024 * 1024) })}\n{"a":1}\n`);
    writeFileSync(small, `${JSON.stringify({ text: "x".repeat(4 * 1024 * 1024) })}\n{"a":1}\n`);
    // Measured in CPU time: the wall clock counted the time a loaded machine left the process
    // waiting for a core (the big file took 34x the small one's wall time so, in linear time).
    let t = cpuMs();
    expect(await readAll(small)).toBe(2);
    const smallMs = cpuMs() - t;
    t = cpuMs();
    expect(await readAll(path)).toBe(2);
    const bigMs = cpuMs() - t;
    // 8x the bytes should cost about 8x the time, not 64x (about 60 ms against 6.5 s here).
    expect(bigMs).toBeLessThan(Math.max(smallMs * 16, 1500));
  }, 60_000);
});
