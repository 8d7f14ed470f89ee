/**
 * Bad input to distributed mode (issue 7, "What must hold" 7): each fails with a clear error
 * within a bounded time, not a hang, and leaves nothing behind.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cluster.js";
import { tagged } from "../support/driver.js";
import { faultHarness, LEASE_MS, type FaultJobFailure, type FaultJobResult } from "../support/faults.js";
import { startTestBroker, stopTestBroker } from "../support/nats.js";

const { setUp, driver, expectNothingLeft, expectNoJobLeft } = faultHarness();

/** A loopback port nothing listens on (it was free a moment ago). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}


/** Runs a driver to its end (bounded) and answers its failure. */
async function failureOf(run: ReturnType<typeof driver>, withinMs: number): Promise<FaultJobFailure> {
  const exit = await run.exitedWithin(withinMs);
  expect(tagged<FaultJobResult>(exit.stdout, "RESULT"), exit.stdout).toBeUndefined();
  const failure = tagged<FaultJobFailure>(exit.stdout, "FAILED");
  expect(failure, exit.stdout + exit.stderr).toBeDefined();
  expect(exit.code).toBe(1);
  return failure!;
}

describe("distributed faults: bad input", () => {
  it("an unreachable cluster URL fails at once, saying nothing listens there", async () => {
    const port = await deadPort();
    const failure = await failureOf(driver({ SAGE_TEST_CLUSTER: `nats://127.0.0.1:${port}` }), 10_000);
    console.log(`unreachable cluster: failed after ${failure.ms} ms`);
    expect(failure.message).toContain(`cannot connect to the NATS cluster at nats://127.0.0.1:${port}: nothing listens there`);
    expect(failure.ms).toBeLessThan(6000);
  });

  it("wrong credentials fail at once, saying the server refused them, and never show the password", async () => {
    const broker = await startTestBroker({ args: ["--user", "sage", "--pass", "right-secret"] });
    try {
      const url = `nats://sage:wrong-secret@127.0.0.1:${broker.port}`;
      const failure = await failureOf(driver({ SAGE_TEST_CLUSTER: url }), 10_000);
      console.log(`wrong credentials: failed after ${failure.ms} ms`);
      expect(failure.message).toContain(`cannot connect to the NATS cluster at nats://sage:***@127.0.0.1:${broker.port}: the server refused the credentials`);
      expect(failure.message + failure.stack).not.toContain("wrong-secret");
      expect(failure.ms).toBeLessThan(6000);
      // A worker with them is refused as clearly, and exits.
      const worker = await runCli(["worker", "start", "--cluster", url, "--name", "w-bad"], 10_000);
      expect(worker.code).not.toBe(0);
      expect(worker.stderr).toContain("the server refused the credentials");
      expect(worker.stdout + worker.stderr).not.toContain("wrong-secret");
    } finally {
      await stopTestBroker(broker);
    }
  });

  it("a cluster without workers fails within seconds, saying how to start one", async () => {
    const { cluster, start } = await setUp({}, { workers: 0 });
    const failure = await failureOf(start(), 15_000);
    console.log(`no workers: failed after ${failure.ms} ms`);
    expect(failure.message).toContain(`the cluster at ${cluster.url} has no workers: start one with 'sage worker start --cluster ${cluster.url}'`);
    expect(failure.ms).toBeLessThan(10_000);
  });

  it("a remote service whose setup() throws fails the job, naming the service and the worker; nothing is left", async () => {
    const { start } = await setUp({ FAIL_SETUP: "1" });
    const run = start();
    const failure = await failureOf(run, 15_000);
    console.log(`service setup throws: failed after ${failure.ms} ms: ${failure.message}`);
    expect(failure.message).toMatch(/service 'ledger' failed to start on worker 'w[12]'/);
    expect(failure.message).toContain("the ledger's disk is full");
    await expectNoJobLeft(LEASE_MS);
  });

  it("a remote operator that throws fails the job, naming the operator, with the remote stack", async () => {
    const { start } = await setUp({ RECORDS: "2000", FAIL_AT: "777" });
    const run = start();
    const jobId = (await run.line(/^JOB /)).slice(4);
    const failure = await failureOf(run, 15_000);
    console.log(`operator throws: failed after ${failure.ms} ms: ${failure.message}`);
    expect(failure.message).toContain("failed in operator 'Work'");
    expect(failure.message).toContain("record 777 is malformed");
    // The stack is the worker's: the operator's frame in the job's bundle as the job host unpacked
    // it, with the source file and line its source map names.
    expect(failure.stack).toMatch(/\n\s+at Work\.execute \([^)]*sage-job-[^)]*fault-job\.ts:\d+:\d+\)/);
    await expectNothingLeft(jobId, LEASE_MS);
  });
});
