import { describe, expect, it } from "vitest";
import { ChannelLine, type Sequenced } from "./channel-line.js";

type Named = Sequenced & { name: string };

function item(gen: string, seq: number, eos = false): Named {
  return { name: `${gen}${seq}${eos ? "e" : ""}`, meta: { channel: "0.0", gen, seq, input: 0, eos, loop: false } };
}

function feed(line: ChannelLine<Named>, ...items: Named[]) {
  const deliver: Named[] = [];
  const drop: Named[] = [];
  for (const i of items) line.accept(i, deliver, drop);
  return { deliver: deliver.map((d) => d.name), drop: drop.map((d) => d.name) };
}

describe("ChannelLine", () => {
  it("delivers in sequence order, holding what comes early", () => {
    const line = new ChannelLine<Named>();
    expect(feed(line, item("a", 1), item("a", 3), item("a", 4, true))).toEqual({ deliver: ["a1"], drop: [] });
    expect(feed(line, item("a", 2))).toEqual({ deliver: ["a2", "a3", "a4e"], drop: [] });
    expect(line.ended).toBe(true);
  });

  it("starts where a re-placed inbox first sees a channel", () => {
    const line = new ChannelLine<Named>();
    expect(feed(line, item("a", 7), item("a", 8, true))).toEqual({ deliver: ["a7", "a8e"], drop: [] });
  });

  it("drops everything after the end, of any incarnation", () => {
    const line = new ChannelLine<Named>();
    feed(line, item("a", 1), item("a", 2, true));
    expect(feed(line, item("b", 1), item("b", 2, true), item("a", 2, true))).toEqual({ deliver: [], drop: ["b1", "b2e", "a2e"] });
  });

  it("switches to a new incarnation, dropping what the old one still had held and its late batches", () => {
    const line = new ChannelLine<Named>();
    expect(feed(line, item("a", 1), item("a", 3))).toEqual({ deliver: ["a1"], drop: [] });
    expect(feed(line, item("b", 1), item("a", 2), item("b", 2, true))).toEqual({ deliver: ["b1", "b2e"], drop: ["a3", "a2"] });
  });

  it("delivers a batch older than the first this inbox saw, but never a late end", () => {
    const line = new ChannelLine<Named>();
    feed(line, item("a", 5), item("a", 6));
    expect(feed(line, item("a", 4), item("a", 3, true))).toEqual({ deliver: ["a4"], drop: ["a3e"] });
  });

  it("drops a repeat of a batch it delivered", () => {
    const line = new ChannelLine<Named>();
    feed(line, item("a", 1), item("a", 2));
    expect(feed(line, item("a", 1), item("a", 2), item("a", 3))).toEqual({ deliver: ["a3"], drop: ["a1", "a2"] });
  });

  it("reports the highest sequence taken of the current incarnation", () => {
    const line = new ChannelLine<Named>();
    const one = item("a", 1);
    feed(line, one, item("a", 2));
    expect(line.progress).toEqual(["a", 0]);
    line.taken(one);
    expect(line.progress).toEqual(["a", 1]);
  });
});
