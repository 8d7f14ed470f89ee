// `sage worker start|list` through the built bin (`npm run build` first).
import { afterEach, describe, expect, it } from "vitest";
import { hostProcessesOf, runDriver } from "../support/cluster.js";
import { startTestBroker, stopTestBroker, type NatsServerProcess } from "../support/nats.js";
import { eventually, freePort, isAlive, sage, sageDone, type SageRun } from "./sage-cli.js";

let broker: NatsServerProcess | undefined;
const runs: SageRun[] = [];

function started(args: string[], env?: Record<string, string>): SageRun {
  const run = sage(args, env);
  runs.push(run);
  return run;
}

afterEach(async () => {
  try {
    const left = runs.splice(0).filter((run) => run.child.exitCode === null && run.child.signalCode === null);
    for (const run of left) run.child.kill("SIGKILL");
    await Promise.all(left.map((run) => run.done));
    expect(left.map((run) => run.child.pid), "workers the test left running").toEqual([]);
  } finally {
    await stopTestBroker(broker);
    broker = undefined;
  }
});

async function joinedLine(run: SageRun): Promise<string> {
  await eventually(() => run.output().stdout.includes(" joined "), 15_000);
  return run.output().stdout.split("\n").find((line) => line.includes(" joined "))!;
}

describe("sage worker", () => {
  it("starts in the foreground, is listed (table and JSON), refuses its name to a second worker and leaves on SIGTERM", async () => {
    broker = await startTestBroker();
    const worker = started(["worker", "start", "--cluster", broker.url, "--name", "alpha", "--slots", "3"]);
    expect(await joinedLine(worker)).toBe(`worker alpha joined ${broker.url} with 3 slots`);
    const pid = worker.child.pid!;

    const table = await sageDone(["worker", "list", "--cluster", broker.url]);
    expect(table.code).toBe(0);
    const [header, row, ...rest] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME\s+HOST\s+PID\s+SLOTS\s+JOBS\s+LAST BEAT$/);
    expect(row).toMatch(new RegExp(`^alpha\\s+\\S+\\s+${pid}\\s+0/3\\s+-\\s+[\\d.]+m?s ago$`));
    expect(rest).toEqual([]);

    // SAGE_CLUSTER stands in for --cluster.
    const json = await sageDone(["worker", "list", "--json"], { SAGE_CLUSTER: broker.url });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ name: "alpha", pid, slots: 3, used: 0, jobs: [], leaseMs: 5000, ageMs: expect.any(Number) })]);

    const twin = await sageDone(["worker", "start", "--cluster", broker.url, "--name", "alpha"]);
    expect(twin.code).toBe(1);
    expect(twin.stderr).toContain(`sage: a worker named 'alpha' is already in the cluster (host `);
    expect(twin.stderr).toContain(`pid ${pid}`);

    worker.child.kill("SIGTERM");
    const done = await worker.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("worker alpha received SIGTERM: leaving\nworker alpha left the cluster\n");
    expect(isAlive(pid)).toBe(false);
    expect((await sageDone(["worker", "list", "--cluster", broker.url])).stdout).toBe("no workers\n");
  });

  it("never prints the password of the cluster URL", async () => {
    broker = await startTestBroker({ args: ["--user", "sage", "--pass", "s3cret-pw"] });
    const url = broker.url.replace("nats://", "nats://sage:s3cret-pw@");
    const worker = started(["worker", "start", "--cluster", url, "--name", "quiet", "--slots", "1"]);
    expect(await joinedLine(worker)).toBe(`worker quiet joined ${broker.url.replace("nats://", "nats://sage:***@")} with 1 slot`);
    const wrong = await sageDone(["worker", "list", "--cluster", broker.url.replace("nats://", "nats://sage:wrong-pw@")]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refused the credentials");
    expect(wrong.stderr).not.toContain("wrong-pw");
    worker.child.kill("SIGINT");
    const done = await worker.done;
    expect(done.code).toBe(0);
    expect(done.stdout + done.stderr).not.toContain("s3cret-pw");
  });

  it("exits non-zero within seconds with the connection's message when the cluster cannot be reached", async () => {
    const port = await freePort();
    const before = Date.now();
    const unreachable = await sageDone(["worker", "start", "--cluster", `nats://127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`sage: cannot connect to the NATS cluster at nats://127.0.0.1:${port}: nothing listens there`);
    expect(Date.now() - before).toBeLessThan(10_000);

    const none = await sageDone(["worker", "list"], { SAGE_CLUSTER: "" });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no cluster given: pass --cluster nats://host:4222 or set SAGE_CLUSTER");

    const slots = await sageDone(["worker", "start", "--cluster", `nats://127.0.0.1:${port}`, "--slots", "0"]);
    expect(slots.code).not.toBe(0);
    expect(slots.stderr).toContain("expected a whole number of at least 1");
    const lease = await sageDone(["worker", "start", "--cluster", `nats://127.0.0.1:${port}`, "--lease-ms", "500"]);
    expect(lease.code).not.toBe(0);
    expect(lease.stderr).toContain("above the heartbeat interval (1000)");
  });

  it("writes every line as JSON with --log-format json: the worker, the job and what the job's operator and service logged, by name", async () => {
    broker = await startTestBroker();
    const worker = started(["worker", "start", "--cluster", broker.url, "--name", "jw", "--slots", "2", "--log-format", "json"]);
    await joinedLine(worker);
    const driver = await runDriver("logging-job.ts", { SAGE_TEST_CLUSTER: broker.url });
    expect(driver.code).toBe(0);
    expect(driver.stdout).toContain("DONE");
    // The driver shows the job's log lines as text, whatever the worker writes.
    expect(driver.stdout + driver.stderr).toMatch(/\(jw\) \d\d:\d\d:\d\d\.\d{3} INFO  Greet_0: saw ann/);
    expect(driver.stdout + driver.stderr).not.toContain("sageHostLog");
    worker.child.kill("SIGTERM");
    const done = await worker.done;
    expect(done.code).toBe(0);

    const parse = (text: string) => text.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    const out = parse(done.stdout);
    const err = parse(done.stderr);
    const records = [...out, ...err];
    for (const record of records) expect(record).toMatchObject({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String), name: "worker", worker: "jw" });
    expect(out.every((record) => (record.level as number) <= 30)).toBe(true);
    expect(err.every((record) => (record.level as number) >= 40)).toBe(true);
    const find = (msg: string) => records.find((record) => record.msg === msg);
    expect(find(`worker jw joined ${broker.url} with 2 slots`)).toBeDefined();
    expect(find("worker jw received SIGTERM: leaving")).toBeDefined();
    expect(find("worker jw left the cluster")).toBeDefined();

    const job = { job: expect.stringMatching(/\S/), job_name: "logging-job" };
    expect(find("saw ann")).toMatchObject({ ...job, level: 30, operator: "Greet", logger: "Greet_0" });
    expect(find("greeting ann")).toMatchObject({ ...job, level: 30, service: "greeter", logger: "greeter" });
    expect(find("printed ann")).toMatchObject({ ...job, level: 30, stream: "stdout" });
    expect(find("complained about ann")).toMatchObject({ ...job, level: 40, stream: "stderr" });
    const id = find("saw ann")!.job as string;
    expect(find(`job ${id}: host exited (code 0)`)).toMatchObject({ job: id, job_name: "logging-job" });
    expect(records.filter((record) => String(record.msg).includes(`job ${id}: host started`))).toEqual([expect.objectContaining({ job: id, job_name: "logging-job" })]);
    // Every line of the job's is named by it.
    expect(records.filter((record) => record.job !== undefined).every((record) => record.job === id && record.job_name === "logging-job")).toBe(true);
    expect(hostProcessesOf(id)).toEqual([]);
  });

  it("says why it cannot join as a JSON line with --log-format json", async () => {
    const port = await freePort();
    const failed = await sageDone(["worker", "start", "--cluster", `nats://127.0.0.1:${port}`, "--log-format", "json"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    const lines = failed.stderr.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ level: 50, name: "worker", code: "E_CLUSTER", msg: expect.stringContaining(`cannot connect to the NATS cluster at nats://127.0.0.1:${port}: nothing listens there`) })]);
    const bad = await sageDone(["worker", "start", "--cluster", `nats://127.0.0.1:${port}`, "--log-format", "xml"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("option '--log-format <format>' argument 'xml' is invalid. Allowed choices are text, json.");
  });
});
