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
    let t = performance.now();
    expect(await readAll(small)).toBe(2);
    const smallMs = performance.now() - t;
    t = performance.now();
    expect(await readAll(path)).toBe(2);
    const bigMs = performance.now() - t;
    // 8x the bytes should cost about 8x the time, not 64x.
    expect(bigMs).toBeLessThan(Math.max(smallMs * 16, 1500));
  }, 60_000);
});
