import { describe, expect, it } from "vitest";
import { AckLedger } from "./ack-ledger.js";

describe("AckLedger", () => {
  it("acknowledges up to the first message not finished, and only once its outputs are persisted", () => {
    const ledger = new AckLedger<string>();
    const [a, b, c] = [ledger.admit(3, "m3")!, ledger.admit(5, "m5")!, ledger.admit(9, "m9")!];
    ledger.finish(a, 1);
    ledger.finish(c, 0);
    expect(ledger.advance(0)).toBeUndefined(); // m3 needs publish 1
    expect(ledger.advance(1)!.msg).toBe("m3");
    expect(ledger.advance(1)).toBeUndefined(); // m5 is still in processing
    ledger.finish(b, 2);
    expect(ledger.advance(2)!.msg).toBe("m9");
    expect(ledger.floor).toBe(9);
    expect(ledger.size).toBe(0);
  });

  it("recognises repeats and puts a message that comes late in its place", () => {
    const ledger = new AckLedger<string>(2);
    expect(ledger.admit(2, "old")).toBeUndefined();
    const x = ledger.admit(4, "m4")!;
    const z = ledger.admit(8, "m8")!;
    expect(ledger.admit(4, "again")).toBeUndefined();
    const y = ledger.admit(6, "m6")!; // lost in transit, delivered again after m8
    for (const e of [x, z]) ledger.finish(e, 0);
    expect(ledger.advance(0)!.seq).toBe(4); // m6 holds the floor
    ledger.finish(y, 0);
    expect(ledger.advance(0)!.seq).toBe(8);
  });

  it("acknowledges through the consumer made last only", () => {
    const ledger = new AckLedger<string>();
    const a = ledger.admit(1, "first consumer")!;
    ledger.finish(a, 0);
    ledger.renew(0);
    expect(ledger.advance(0)).toBeUndefined();
    expect(ledger.admit(1, "second consumer")).toBeUndefined();
    expect(ledger.advance(0)!.msg).toBe("second consumer");
  });
});
