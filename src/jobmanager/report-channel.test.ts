import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { encodeFrame, FrameReader, FrameWriter, readFrames, type FrameProblem } from "./report-channel.js";

function reader(maxFrameBytes = 1024) {
  const messages: unknown[] = [];
  const problems: FrameProblem[] = [];
  const frames = new FrameReader(maxFrameBytes, (message) => messages.push(message), (problem) => problems.push(problem));
  return { frames, messages, problems };
}

function header(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(length, 0);
  return bytes;
}

describe("FrameReader", () => {
  it("reads a frame cut into chunks anywhere, even one byte at a time", () => {
    const { frames, messages } = reader();
    const frame = encodeFrame({ type: "event", text: "héllo €" });
    for (let at = 0; at < frame.length; at++) frames.push(frame.subarray(at, at + 1));
    expect(messages).toEqual([{ type: "event", text: "héllo €" }]);
  });

  it("reads several frames from one chunk, and a frame whose header ends a chunk", () => {
    const { frames, messages } = reader();
    const all = Buffer.concat([encodeFrame({ n: 1 }), encodeFrame({ n: 2 }), encodeFrame({ n: 3 })]);
    const cut = encodeFrame({ n: 1 }).length * 2 + 4;
    frames.push(all.subarray(0, cut));
    expect(messages).toEqual([{ n: 1 }, { n: 2 }]);
    frames.push(all.subarray(cut));
    expect(messages).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("skips a frame over the limit without keeping it, once, and reads the frames after it", () => {
    const { frames, messages, problems } = reader(1024);
    const claimed = 1024 * 1024 * 1024;
    const before = process.memoryUsage().arrayBuffers;
    frames.push(Buffer.concat([encodeFrame({ n: 1 }), header(claimed)]));
    const chunk = Buffer.alloc(1024 * 1024, 0x78);
    for (let sent = 0; sent < claimed; sent += chunk.length) frames.push(chunk);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    frames.push(encodeFrame({ n: 2 }));
    expect(messages).toEqual([{ n: 1 }, { n: 2 }]);
    expect(problems).toEqual([{ kind: "oversized", bytes: claimed, limit: 1024 }]);
  });

  it("takes a frame of exactly the limit", () => {
    const { frames, messages, problems } = reader(12);
    frames.push(encodeFrame("1234567890"));
    expect(messages).toEqual(["1234567890"]);
    expect(problems).toEqual([]);
  });

  it("drops a frame that is not JSON (an empty one too) and goes on", () => {
    const { frames, messages, problems } = reader();
    frames.push(Buffer.concat([header(5), Buffer.from("{nope"), header(0), encodeFrame({ n: 1 })]));
    expect(messages).toEqual([{ n: 1 }]);
    expect(problems.map((problem) => problem.kind)).toEqual(["malformed", "malformed"]);
  });
});

describe("FrameWriter and readFrames", () => {
  it("carry messages in order over a stream; a writer whose stream ended drops them", async () => {
    const stream = new PassThrough();
    const messages: unknown[] = [];
    readFrames(stream, 1024, (message) => messages.push(message), () => {});
    const writer = new FrameWriter(stream);
    writer.write({ n: 1 });
    writer.write({ n: 2, text: "x".repeat(100) });
    await writer.flush();
    stream.end();
    writer.write({ n: 3 });
    await writer.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(messages).toEqual([{ n: 1 }, { n: 2, text: "x".repeat(100) }]);
  });
});
