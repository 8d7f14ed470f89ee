/**
 * Distributed mode: a job that aborts (stop({mode: "abort"}), its timeout, a failure) cancels the
 * work in flight on its workers at once, as local mode does: the remote LLMService's requests
 * and a remote operator's own request (through ctx.signal) close as the job aborts, not when the
 * job hosts end after the services' cleanup. The server never answers (hang fault).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostProcessesOf, runDriver, startTestCluster, type TestCluster } from "../support/cluster.js";
import { tagged } from "../support/driver.js";
import { discoverServices } from "../support/nats.js";

interface AbortResult {
  endedBy: string;
  state: string | undefined;
  jobId: string | undefined;
  submittedAt: number;
  decidedAt: number;
  returnedAt: number;
  inFlight: number;
  socketsOpen: number;
  requests: Array<{ model: string; at: number; endedAt?: number; closedEarly: boolean }>;
}

const TIMEOUT_MS = 2000;
// How long after the abort a request may stay open, and submit/stop may take to return: the
// cancellation crosses the broker to a job host and the server sees the socket close. Before the
// fix they waited for the endpoints' 10 s drain of calls in flight.
const CANCEL_MS = 1500;
const RETURN_MS = 4000;

describe("distributed faults: abort cancels remote work in flight", () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster({ workers: 2 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it.each([
    ["stop({mode: 'abort'})", "abort", "stop", "stopped"],
    ["the job's timeout", "timeout", "timeout", "stopped"],
    ["a failure of a local operator", "fail", "failed", "failed"],
  ])("%s closes the remote LLM service's and a remote operator's requests at once", async (_, mode, endedBy, state) => {
    const run = await runDriver("remote-llm-abort.ts", { SAGE_TEST_CLUSTER: cluster.url, MODE: mode, TIMEOUT_MS: String(TIMEOUT_MS) }, 60_000);
    const result = tagged<AbortResult>(run.stdout, "RESULT");
    expect(result, run.stdout + run.stderr).toBeDefined();
    const r = result!;
    expect(r).toMatchObject({ endedBy, state });
    expect(r.requests.map((q) => q.model).sort()).toEqual(["operator", "operator", "operator", "service", "service", "service"]);
    expect(r.requests.every((q) => q.closedEarly && q.endedAt !== undefined)).toBe(true);
    const lastClose = Math.max(...r.requests.map((q) => q.endedAt!));
    if (mode === "timeout") {
      // Every request arrived after the job's wait began: it closes within the timeout and the cancellation.
      const open = r.requests.map((q) => Math.round(q.endedAt! - q.at));
      console.log(`${mode}: requests open ${open.join(", ")} ms (timeout ${TIMEOUT_MS} ms); submit returned ${Math.round(r.returnedAt - lastClose)} ms after the last closed`);
      for (const ms of open) expect(ms).toBeLessThan(TIMEOUT_MS + CANCEL_MS);
    } else {
      const closed = r.requests.map((q) => Math.round(q.endedAt! - r.decidedAt));
      console.log(`${mode}: requests closed ${closed.join(", ")} ms after the abort; ${endedBy === "stop" ? "stop" : "submit"} returned ${Math.round(r.returnedAt - r.decidedAt)} ms after it`);
      expect(r.decidedAt).toBeGreaterThan(0);
      for (const ms of closed) expect(ms).toBeLessThan(CANCEL_MS);
      expect(r.returnedAt - r.decidedAt).toBeLessThan(RETURN_MS);
    }
    expect(r.returnedAt - lastClose).toBeLessThan(RETURN_MS);
    // Nothing of the job is left: no request or socket at the server, no host process, no service.
    expect({ inFlight: r.inFlight, socketsOpen: r.socketsOpen }).toEqual({ inFlight: 0, socketsOpen: 0 });
    expect(hostProcessesOf(r.jobId!)).toEqual([]);
    expect((await discoverServices(cluster.nc)).filter((s) => s.metadata?.sage_job === r.jobId)).toEqual([]);
  }, 60_000);
});
