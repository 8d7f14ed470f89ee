/**
 * The behaviour every Transport must have (DESIGN.md: the in-process and the NATS transport pass
 * ONE shared suite). Call `runTransportSuite` from a test file with a factory for the
 * implementation; each test creates a transport and closes it.
 */
import { describe, expect, it } from "vitest";
import type { EdgeSpec, TaskId } from "../../src/graph/execution-graph.js";
import type { ChannelMessage, Transport } from "../../src/runtime/transport.js";

/** Makes a transport whose bounded inboxes hold `capacity` messages before senders must wait. */
export type TransportFactory = (options: { capacity: number }) => Transport | Promise<Transport>;

const A = "tA" as TaskId;
const B = "tB" as TaskId;

function edge(overrides: Partial<EdgeSpec> = {}): EdgeSpec {
  return { id: 0, from: A, to: B, partition: "forward", inputIndex: 0, feedback: false, ...overrides };
}

async function take(transport: Transport, task: TaskId, index: number): Promise<ChannelMessage | undefined> {
  return transport.inbox(task, index).poll() ?? (await transport.inbox(task, index).take());
}

/** Registers the shared transport tests under `name`. */
export function runTransportSuite(name: string, create: TransportFactory): void {
  describe(`${name} - transport conformance`, () => {
    async function withTransport(capacity: number, test: (transport: Transport) => Promise<void>): Promise<void> {
      const transport = await create({ capacity });
      try {
        await test(transport);
      } finally {
        await transport.close();
      }
    }

    it("delivers batches in order, with their keys and the receiving input index", async () => {
      await withTransport(8, async (transport) => {
        const sender = transport.sender(edge({ inputIndex: 2 }), 0, 0);
        await sender.send([1, 2], ["a", "b"]);
        await sender.send([3], undefined);
        const first = await take(transport, B, 0);
        const second = await take(transport, B, 0);
        expect(first).toMatchObject({ input: 2, records: [1, 2], keys: ["a", "b"], eos: false });
        expect(second).toMatchObject({ input: 2, records: [3], eos: false });
      });
    });

    it("sends an end-of-stream marker after the channel's batches", async () => {
      await withTransport(8, async (transport) => {
        const sender = transport.sender(edge(), 0, 0);
        await sender.send(["x"], undefined);
        await sender.end();
        expect((await take(transport, B, 0))!.eos).toBe(false);
        expect((await take(transport, B, 0))!.eos).toBe(true);
      });
    });

    it("keeps the channels into one instance apart by receiving instance", async () => {
      await withTransport(8, async (transport) => {
        await transport.sender(edge({ partition: "rebalance" }), 0, 1).send(["to 1"], undefined);
        await transport.sender(edge({ partition: "rebalance" }), 0, 0).send(["to 0"], undefined);
        expect((await take(transport, B, 0))!.records).toEqual(["to 0"]);
        expect((await take(transport, B, 1))!.records).toEqual(["to 1"]);
      });
    });

    it("makes a sender wait when the receiver's inbox is full, and lets it go once drained", async () => {
      await withTransport(2, async (transport) => {
        const sender = transport.sender(edge(), 0, 0);
        let waited = false;
        for (let i = 0; i < 10 && !waited; i++) {
          const pending = sender.send([i], undefined);
          if (pending) {
            waited = true;
            let released = false;
            void Promise.resolve(pending).then(() => (released = true));
            await new Promise((resolve) => setTimeout(resolve, 10));
            expect(released).toBe(false);
            for (let j = 0; j <= i; j++) await take(transport, B, 0);
            await pending;
          }
        }
        expect(waited).toBe(true);
      });
    });

    it("never blocks a feedback channel and sends no end-of-stream on it", async () => {
      await withTransport(1, async (transport) => {
        const feedback = transport.sender(edge({ feedback: true, loop: 0 }), 0, 0);
        for (let i = 0; i < 20; i++) expect(feedback.send([i], undefined)).toBeFalsy();
        await feedback.end();
        const messages: ChannelMessage[] = [];
        for (let i = 0; i < 20; i++) messages.push((await take(transport, B, 0))!);
        expect(messages.every((m) => m.loop && !m.eos)).toBe(true);
        expect(transport.inbox(B, 0).poll()).toBeUndefined();
      });
    });

    it("marks messages on loop edges as loop work", async () => {
      await withTransport(8, async (transport) => {
        await transport.sender(edge({ loop: 3 }), 0, 0).send([1], undefined);
        await transport.sender(edge(), 0, 1).send([2], undefined);
        expect((await take(transport, B, 0))!.loop).toBe(true);
        expect((await take(transport, B, 1))!.loop).toBe(false);
      });
    });

    it("wakes a waiting receiver with undefined on abort, and releases waiting senders", async () => {
      await withTransport(1, async (transport) => {
        const waiting = transport.inbox(A, 0).take();
        transport.inbox(A, 0).abort();
        expect(await waiting).toBeUndefined();
        const sender = transport.sender(edge(), 0, 0);
        let pending: void | Promise<void> = undefined;
        for (let i = 0; i < 5 && !pending; i++) pending = sender.send([i], undefined);
        transport.inbox(B, 0).abort();
        await pending; // resolves: an aborted receiver never holds a sender
      });
    });
  });
}
