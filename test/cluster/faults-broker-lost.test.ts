/**
 * The broker gone for good mid-job: the driver fails the job with a clear error within its outage
 * limit (3 leases, at least 10 s), and the job hosts on the workers leave by themselves.
 */
import { describe, expect, it } from "vitest";
import { outageLimitMs } from "../../src/cluster/protocol.js";
import { hostProcessesOf } from "../support/cluster.js";
import { tagged, waitFor } from "../support/driver.js";
import { faultHarness, LEASE_MS, type FaultJobFailure } from "../support/faults.js";

const { setUp } = faultHarness();

describe("distributed mode - the broker lost for good", () => {
  it("fails the job with a clear error within the outage limit; the hosts end too", async () => {
    const { cluster, start } = await setUp({ RECORDS: "20000", DELAY_EVERY: "100", DELAY_MS: "20" });
    const run = start();
    const jobId = (await run.line(/^JOB /)).slice(4);
    await run.line(/^PROGRESS 4000$/);
    const lostAt = Date.now();
    await cluster.broker.kill();
    const limit = outageLimitMs(LEASE_MS);
    const exit = await run.exitedWithin(limit + 8000);
    const failure = tagged<FaultJobFailure>(exit.stdout, "FAILED");
    expect(failure, exit.stdout + exit.stderr).toBeDefined();
    expect(failure!.message).toMatch(/lost the connection to the cluster's broker/);
    expect(Date.now() - lostAt).toBeLessThan(limit + 8000);
    await waitFor(() => hostProcessesOf(jobId).length === 0, limit + 3000, "the job's hosts end");
  }, 60_000);
});
