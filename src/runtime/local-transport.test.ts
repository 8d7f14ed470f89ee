import { describe, expect, it } from "vitest";
import type { EdgeSpec, TaskId } from "../graph/execution-graph.js";
import { LocalInbox, LocalTransport } from "./local-transport.js";
import type { ChannelMessage } from "./transport.js";

function message(n: number, input = 0): ChannelMessage {
  return { input, records: [n], keys: undefined, eos: false, loop: false };
}

/** Tracks whether a promise settled, after letting pending callbacks run. */
function track(result: void | Promise<unknown>): { settled: () => Promise<boolean> } {
  let done = false;
  if (result) void result.then(() => (done = true));
  return {
    async settled() {
      await new Promise((resolve) => setImmediate(resolve));
      return result === undefined || done;
    },
  };
}

function edge(overrides: Partial<EdgeSpec> = {}): EdgeSpec {
  return { id: 0, from: "t0" as TaskId, to: "t1" as TaskId, partition: "forward", inputIndex: 0, feedback: false, ...overrides };
}

describe("LocalInbox", () => {
  it("delivers messages in the order they were put", async () => {
    const inbox = new LocalInbox(8);
    for (let i = 0; i < 5; i++) inbox.put(message(i), true);

    expect(inbox.size).toBe(5);
    expect(inbox.poll()).toEqual(message(0));
    expect(await inbox.take()).toEqual(message(1));
    expect([inbox.poll(), inbox.poll(), inbox.poll()]).toEqual([message(2), message(3), message(4)]);
    expect(inbox.poll()).toBeUndefined();
    expect(inbox.size).toBe(0);
  });

  it("keeps FIFO order across many messages while consuming in between", () => {
    const inbox = new LocalInbox(100_000);
    const seen: unknown[] = [];
    for (let i = 0; i < 5000; i++) {
      inbox.put(message(i), false);
      if (i % 3 === 0) seen.push(inbox.poll()!.records[0]);
    }
    for (let m = inbox.poll(); m !== undefined; m = inbox.poll()) seen.push(m.records[0]);

    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("accepts puts up to its capacity without asking the sender to wait", () => {
    const inbox = new LocalInbox(3);

    expect([inbox.put(message(0), true), inbox.put(message(1), true), inbox.put(message(2), true)]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("accepts a put beyond capacity but returns a promise that resolves once drained to half", async () => {
    const inbox = new LocalInbox(4);
    for (let i = 0; i < 4; i++) inbox.put(message(i), true);

    const blocked = inbox.put(message(4), true);
    expect(blocked).toBeInstanceOf(Promise);
    expect(inbox.size).toBe(5);
    const waiter = track(blocked);

    inbox.poll();
    inbox.poll();
    expect(inbox.size).toBe(3);
    expect(await waiter.settled()).toBe(false);

    inbox.poll();
    expect(inbox.size).toBe(2);
    expect(await waiter.settled()).toBe(true);
    expect([inbox.poll(), inbox.poll()]).toEqual([message(3), message(4)]);
  });

  it("releases every waiting sender at once when drained to half", async () => {
    const inbox = new LocalInbox(2);
    inbox.put(message(0), true);
    inbox.put(message(1), true);
    const waiters = [track(inbox.put(message(2), true)), track(inbox.put(message(3), true))];

    inbox.poll();
    inbox.poll();
    inbox.poll();

    expect(await Promise.all(waiters.map((w) => w.settled()))).toEqual([true, true]);
  });

  it("never asks an unbounded put to wait", () => {
    const inbox = new LocalInbox(1);
    const results = Array.from({ length: 10 }, (_, i) => inbox.put(message(i), false));

    expect(results.every((r) => r === undefined)).toBe(true);
    expect(inbox.size).toBe(10);
  });

  it("lets take wait for the next put and hands the message over directly", async () => {
    const inbox = new LocalInbox(4);
    const taken = inbox.take();
    const waiter = track(taken);
    expect(await waiter.settled()).toBe(false);

    inbox.put(message(7), true);

    expect(await taken).toEqual(message(7));
    expect(inbox.size).toBe(0);
  });

  it("wakes a waiting taker with undefined when aborted", async () => {
    const inbox = new LocalInbox(4);
    const taken = inbox.take();

    inbox.abort();

    expect(await taken).toBeUndefined();
  });

  it("releases waiting senders and drops queued messages when aborted", async () => {
    const inbox = new LocalInbox(1);
    inbox.put(message(0), true);
    const waiter = track(inbox.put(message(1), true));

    inbox.abort();

    expect(await waiter.settled()).toBe(true);
    expect(inbox.size).toBe(0);
    expect(inbox.poll()).toBeUndefined();
  });

  it("drops puts after an abort and answers take with undefined at once", async () => {
    const inbox = new LocalInbox(1);
    inbox.abort();

    expect(inbox.put(message(0), true)).toBeUndefined();
    expect(inbox.put(message(1), true)).toBeUndefined();
    expect(inbox.size).toBe(0);
    expect(await inbox.take()).toBeUndefined();
  });
});

describe("LocalTransport", () => {
  it("returns the same inbox for the same task instance and separate ones otherwise", () => {
    const transport = new LocalTransport({ capacity: 4 });
    const a = transport.inbox("t1" as TaskId, 0);

    expect(transport.inbox("t1" as TaskId, 0)).toBe(a);
    expect(transport.inbox("t1" as TaskId, 1)).not.toBe(a);
    expect(transport.inbox("t2" as TaskId, 0)).not.toBe(a);
  });

  it("uses a capacity of at least one", () => {
    const transport = new LocalTransport({ capacity: 0 });

    expect(transport.inbox("t1" as TaskId, 0).capacity).toBe(1);
  });

  it("sends batches with their keys to the target instance's inbox under the edge's input index", () => {
    const transport = new LocalTransport({ capacity: 4 });
    const sender = transport.sender(edge({ to: "t3" as TaskId, inputIndex: 2 }), 0, 1);

    sender.send(["a", "b"], ["ka", "kb"]);

    expect(transport.inbox("t3" as TaskId, 0).size).toBe(0);
    expect(transport.inbox("t3" as TaskId, 1).poll()).toEqual({ input: 2, records: ["a", "b"], keys: ["ka", "kb"], eos: false, loop: false });
  });

  it("ends a channel with an end-of-stream message that never waits, even when the inbox is full", () => {
    const transport = new LocalTransport({ capacity: 1 });
    const sender = transport.sender(edge({ inputIndex: 1 }), 0, 0);
    sender.send([1], undefined);

    expect(sender.send([2], undefined)).toBeInstanceOf(Promise);
    expect(sender.end()).toBeUndefined();

    const inbox = transport.inbox("t1" as TaskId, 0);
    expect([inbox.poll(), inbox.poll(), inbox.poll()].map((m) => m?.eos)).toEqual([false, false, true]);
    expect(inbox.size).toBe(0);
  });

  it("asks a sender on a normal edge to wait beyond capacity", () => {
    const transport = new LocalTransport({ capacity: 2 });
    const sender = transport.sender(edge(), 0, 0);

    expect([sender.send([1], undefined), sender.send([2], undefined)]).toEqual([undefined, undefined]);
    expect(sender.send([3], undefined)).toBeInstanceOf(Promise);
  });

  it("never blocks a sender on a feedback edge and sends it no end-of-stream", () => {
    const transport = new LocalTransport({ capacity: 1 });
    const sender = transport.sender(edge({ feedback: true, loop: 0, inputIndex: 1 }), 0, 0);

    const results = Array.from({ length: 20 }, (_, i) => sender.send([i], undefined));
    sender.end();

    expect(results.every((r) => r === undefined)).toBe(true);
    const inbox = transport.inbox("t1" as TaskId, 0);
    const messages: ChannelMessage[] = [];
    for (let m = inbox.poll(); m !== undefined; m = inbox.poll()) messages.push(m);
    expect(messages).toHaveLength(20);
    expect(messages.some((m) => m.eos)).toBe(false);
    expect(messages.every((m) => m.loop && m.input === 1)).toBe(true);
  });

  it("marks messages on a loop edge as loop traffic and others not", () => {
    const transport = new LocalTransport({ capacity: 4 });
    transport.sender(edge({ loop: 3 }), 0, 0).send([1], undefined);
    transport.sender(edge(), 0, 0).send([2], undefined);

    const inbox = transport.inbox("t1" as TaskId, 0);
    expect([inbox.poll()!.loop, inbox.poll()!.loop]).toEqual([true, false]);
  });

  it("aborts every inbox on close, waking takers and releasing senders", async () => {
    const transport = new LocalTransport({ capacity: 1 });
    const taken = transport.inbox("t2" as TaskId, 0).take();
    const sender = transport.sender(edge(), 0, 0);
    sender.send([1], undefined);
    const waiter = track(sender.send([2], undefined));

    await transport.close();

    expect(await taken).toBeUndefined();
    expect(await waiter.settled()).toBe(true);
    expect(sender.send([3], undefined)).toBeUndefined();
  });
});
