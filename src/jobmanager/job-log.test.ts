import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { JobLog } from "./job-log.js";
import { cutMarker, cutUtf8, splitLines } from "../cluster/line-splitter.js";

function split(chunks: Array<string | Buffer>, maxLineBytes: number): Promise<string[]> {
  const stream = new PassThrough();
  const lines: string[] = [];
  splitLines(stream, maxLineBytes, (line) => lines.push(line));
  return new Promise((resolve) => {
    stream.on("close", () => resolve(lines));
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
  });
}

describe("splitLines", () => {
  it("splits lines across chunks, drops CR before LF and keeps a last line without newline", async () => {
    expect(await split(["a\r\nb", "c\n\nd"], 100)).toEqual(["a", "bc", "", "d"]);
  });

  it("cuts a long line, saying how many bytes were dropped, however many chunks it spans", async () => {
    const lines = await split(["x".repeat(70), "y".repeat(70), "\nshort\n"], 100);
    expect(lines).toEqual([`${"x".repeat(70)}${"y".repeat(30)}${cutMarker(40)}`, "short"]);
  });

  it("never cuts inside a character", async () => {
    const [line] = await split(["ab€€€\n"], 6); // € is 3 bytes: 2 + 3 fit, the 4th byte starts a cut one
    expect(line).toBe(`ab€${cutMarker(6)}`);
    expect(cutUtf8("ab€€", 4)).toBe("ab");
    expect(cutUtf8("ab€€", 5)).toBe("ab€");
  });
});

describe("JobLog", () => {
  const limits = { maxLineBytes: 1024, maxBytes: 100, maxLines: 5 };

  it("keeps at most maxLines lines, numbering them from the job's start", () => {
    const log = new JobLog(limits);
    for (let i = 0; i < 8; i++) expect(log.append(`l${i}`)).toBe(i);
    expect(log.lines).toEqual(["l3", "l4", "l5", "l6", "l7"]);
    expect([log.base, log.next]).toEqual([3, 8]);
  });

  it("rolls the oldest lines off past maxBytes, keeping at least the newest", () => {
    const log = new JobLog(limits);
    log.append("a".repeat(40));
    log.append("b".repeat(40));
    log.append("c".repeat(40));
    expect(log.lines).toEqual(["b".repeat(40), "c".repeat(40)]);
    log.append("d".repeat(200));
    expect(log.lines).toEqual(["d".repeat(200)]);
    expect(log.base).toBe(3);
  });

  it("stays correct across many roll-offs", () => {
    const log = new JobLog({ maxLineBytes: 1024, maxBytes: 1 << 20, maxLines: 10 });
    for (let i = 0; i < 5000; i++) log.append(String(i));
    expect(log.lines).toEqual(Array.from({ length: 10 }, (_, i) => String(4990 + i)));
    expect(log.base).toBe(4990);
  });
});
