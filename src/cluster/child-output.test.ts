import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { drainOutput } from "./child-output.js";

describe("drainOutput", () => {
  it("reads a pipe to its end while data keeps coming, past the idle limit in all", async () => {
    const pipe = new PassThrough();
    const read: string[] = [];
    pipe.on("data", (chunk: Buffer) => read.push(chunk.toString()));
    // a chunk every 150 ms for 1.2 s: longer than the idle limit, never idle that long
    let n = 0;
    const timer = setInterval(() => {
      pipe.write(`${n++}\n`);
      if (n === 8) {
        clearInterval(timer);
        pipe.end();
      }
    }, 150);
    await drainOutput([pipe], 400, 5000);
    expect(read.join("")).toBe("0\n1\n2\n3\n4\n5\n6\n7\n");
  });

  it("gives up on a silent pipe after the idle limit, and on a chatty one after the cap", async () => {
    const silent = new PassThrough();
    silent.on("data", () => {});
    let started = performance.now();
    await drainOutput([silent], 200, 5000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    expect(silent.destroyed).toBe(true);

    const chatty = new PassThrough();
    chatty.on("data", () => {});
    const timer = setInterval(() => chatty.write("x"), 20);
    started = performance.now();
    await drainOutput([chatty], 200, 600);
    clearInterval(timer);
    expect(performance.now() - started).toBeGreaterThanOrEqual(595);
    expect(chatty.destroyed).toBe(true);
  });
});
