import { describe, expect, it } from "vitest";
import type { ServiceRequest } from "../../api/pipeline-service.js";
import { createLogger } from "../../api/logger.js";
import { CALL_ABANDONED } from "../service-host.js";
import { RequestEndpoint } from "./request-endpoint.js";

const silent = createLogger("test", "silent");

function endpoint(maxPending = 8) {
  let idleCalls = 0;
  const ep = new RequestEndpoint("svc", maxPending, silent, () => idleCalls++);
  const reader = ep.requests()[Symbol.asyncIterator]();
  return { ep, reader, idleCalls: () => idleCalls };
}

async function take(reader: AsyncIterator<ServiceRequest>): Promise<ServiceRequest> {
  const step = await reader.next();
  if (step.done) throw new Error("the requests ended");
  return step.value;
}

const abandon = (answer: Promise<unknown>) => (answer as unknown as Record<symbol, () => void>)[CALL_ABANDONED]!();
const settledState = async (answer: Promise<unknown>) =>
  Promise.race([answer.then((v) => ({ value: v }), (e: Error) => ({ error: e.message })), new Promise((r) => setImmediate(() => r("pending")))]);

describe("RequestEndpoint", () => {
  it("hands requests to the source in call order and answers each caller by id", async () => {
    const { ep, reader } = endpoint();
    const answers = ["a", "b", "c"].map((payload) => ep.submit(payload));
    const taken = [await take(reader), await take(reader), await take(reader)];
    expect(taken.map((r) => r.payload)).toEqual(["a", "b", "c"]);
    expect(new Set(taken.map((r) => r.id)).size).toBe(3);
    // answered out of order: each caller still gets its own answer
    for (const request of [...taken].reverse()) ep.answer(request.id, `${String(request.payload)}!`);
    expect(await Promise.all(answers)).toEqual(["a!", "b!", "c!"]);
    expect(ep.metrics()).toMatchObject({ requests: 3, answered: 3, pending: 0, waiting: 0 });
  });

  it("gives the source no more than maxPending unanswered requests; the rest wait for room", async () => {
    const { ep, reader } = endpoint(2);
    const answers = [1, 2, 3].map((n) => ep.submit(n));
    const first = await take(reader);
    await take(reader);
    const third = reader.next();
    expect(await settledState(third)).toBe("pending");
    expect(ep.metrics()).toMatchObject({ pending: 2, waiting: 1 });
    ep.answer(first.id, "one");
    expect(((await third) as IteratorYieldResult<ServiceRequest>).value.payload).toBe(3);
    expect(await answers[0]).toBe("one");
  });

  it("answers undefined to the requests still unanswered once the pipeline's work falls to zero", async () => {
    const { ep, reader, idleCalls } = endpoint();
    const kept = ep.submit("kept");
    const dropped = ep.submit("dropped");
    const a = await take(reader);
    await take(reader); // two units of work: one per request taken
    ep.release(1);
    ep.answer(a.id, "yes");
    expect(await settledState(dropped)).toBe("pending"); // work is still in flight
    ep.release(1);
    expect(await kept).toBe("yes");
    expect(await dropped).toBeUndefined();
    expect(ep.metrics()).toMatchObject({ answered: 1, dropped: 1, pending: 0 });
    expect(ep.idle).toBe(true);
    expect(idleCalls()).toBeGreaterThan(0);
  });

  it("drops a request whose caller gave up before it was taken, and discards the late answer of one taken", async () => {
    const { ep, reader } = endpoint();
    const early = ep.submit("taken");
    const late = ep.submit("never taken");
    const request = await take(reader);
    abandon(early);
    abandon(late);
    expect(ep.metrics()).toMatchObject({ timedOut: 2, waiting: 0, pending: 1 });
    ep.answer(request.id, "nobody reads this");
    expect(await settledState(early)).toBe("pending"); // the host rejected it with a timeout already
    ep.close();
    expect(await reader.next()).toEqual({ done: true, value: undefined }); // "never taken" was skipped
  });

  it("ends the source once closed and drained, and refuses calls after close", async () => {
    const { ep, reader } = endpoint();
    const answer = ep.submit("last");
    ep.close();
    await expect(ep.submit("too late")).rejects.toThrow(/service 'svc' is closed/);
    const request = await take(reader);
    const end = reader.next();
    expect(await end).toEqual({ done: true, value: undefined });
    ep.answer(request.id, "still answered");
    expect(await answer).toBe("still answered");
  });

  it("wakes a waiting source with its end when closed", async () => {
    const { ep, reader } = endpoint();
    const next = reader.next();
    ep.close();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it("rejects every waiting and pending caller on failure, and ends the source", async () => {
    const { ep, reader } = endpoint(1);
    const inside = ep.submit(1);
    const waiting = ep.submit(2);
    await take(reader);
    ep.fail(new Error("the job failed: boom"));
    await expect(inside).rejects.toThrow("the job failed: boom");
    await expect(waiting).rejects.toThrow("the job failed: boom");
    await expect(ep.submit(3)).rejects.toThrow("the job failed: boom");
    expect(await reader.next()).toEqual({ done: true, value: undefined });
  });
});
