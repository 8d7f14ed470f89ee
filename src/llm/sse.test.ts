import { describe, expect, it } from "vitest";
import { serverSentEvents, type ServerSentEvent } from "./sse.js";

async function parse(chunks: string[]): Promise<ServerSentEvent[]> {
  const encoder = new TextEncoder();
  async function* body() {
    for (const chunk of chunks) yield encoder.encode(chunk);
  }
  const events: ServerSentEvent[] = [];
  for await (const event of serverSentEvents(body())) events.push(event);
  return events;
}

describe("serverSentEvents", () => {
  it("reads data events split anywhere across chunks", async () => {
    const text = 'data: {"a":1}\n\ndata: {"b":2}\n\n: keep-alive\n\ndata: [DONE]\n\n';
    const whole = await parse([text]);
    expect(whole).toEqual([{ data: '{"a":1}' }, { data: '{"b":2}' }, { data: "[DONE]" }]);
    for (let cut = 1; cut < text.length; cut++) expect(await parse([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
  });

  it("joins multi-line data, keeps event names, accepts CRLF and no space after the colon", async () => {
    expect(await parse(["event: error\r\ndata:line 1\r\ndata: line 2\r\n\r\n"])).toEqual([{ event: "error", data: "line 1\nline 2" }]);
  });

  it("decodes a multi-byte character split between chunks", async () => {
    const bytes = new TextEncoder().encode("data: héllo\n\n");
    async function* body() {
      yield bytes.slice(0, 8);
      yield bytes.slice(8);
    }
    const events: ServerSentEvent[] = [];
    for await (const event of serverSentEvents(body())) events.push(event);
    expect(events).toEqual([{ data: "héllo" }]);
  });

  it("delivers a last event that lacks its blank line", async () => {
    expect(await parse(['data: {"x":1}\n\ndata: tail'])).toEqual([{ data: '{"x":1}' }, { data: "tail" }]);
  });
});
