/**
 * Remote mode - the client prints every line of its job's output: RemoteJob.wait resolves only
 * once every line the job logged has been printed, once, in order, whatever the timing of the log
 * fetch, the event stream and the job's end. The races are forced with a scripted client; a real
 * script, run many times against a real JobManager, checks the whole path.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { JobEvent, JobStatus } from "../../src/api/types.js";
import { JobManagerClient } from "../../src/jobmanager/client.js";
import { LogPrinter } from "../../src/jobmanager/log-printer.js";
import { RemoteJob } from "../../src/jobmanager/remote-executor.js";
import { EventStream } from "../../src/runtime/event-stream.js";
import { closeTestServer, makeRepoTmpDir, SAGE_IMPORT, startTestServer, type TestServer } from "./helpers.js";

const ID = "00000000-0000-0000-0000-000000000000";

function status(state: JobStatus["state"]): JobStatus {
  return { id: ID, name: "fake", state, autostop: true, platform: "remote", submittedAt: "", runtimeMs: 0, restartCount: 0, tasks: 0, services: 0, isRunning: state === "running", operators: [] };
}
const stateEvent = (state: JobStatus["state"]): JobEvent => ({ type: "state", jobId: ID, state, at: "", status: status(state) });

/**
 * A client whose job log and event streams the test scripts: `log` is what the server holds,
 * `onStream(n)` runs when the n-th event stream opens and returns its events (it may change the log).
 */
function scriptedClient(log: string[], onStream: (n: number, emit: (event: JobEvent) => void) => JobEvent[]) {
  let streams = 0;
  let final = status("running");
  const client = {
    logs: async (_id: string, since = 0) => ({ lines: log.slice(since), next: log.length }),
    getJob: async () => final,
    events() {
      const stream = new EventStream<JobEvent>();
      const n = streams++;
      const logLine = (event: JobEvent) => event.type === "log" && event.line !== undefined && (log[event.line] = event.message);
      const emit = (event: JobEvent) => {
        logLine(event);
        if (event.type === "state") final = event.status;
        stream.push(event);
      };
      setImmediate(() => {
        for (const event of onStream(n, emit)) emit(event);
        stream.close();
      });
      return stream;
    },
    waitForJob: JobManagerClient.prototype.waitForJob,
  };
  return client as unknown as JobManagerClient;
}
const logEvent = (line: number, message: string): JobEvent => ({ type: "log", jobId: ID, at: "", level: "info", message, line });

describe("remote mode - the client prints all of its job's output", () => {
  let printed: string[];
  beforeAll(() => {
    vi.spyOn(process.stdout, "write").mockImplementation((text: string | Uint8Array) => {
      printed.push(...String(text).split("\n").slice(0, -1));
      return true;
    });
  });
  afterEach(() => (printed = []));
  afterAll(() => vi.restoreAllMocks());
  printed = [];

  it("prints lines logged after the log was read but before the event stream subscribed", async () => {
    const log = ["a"];
    const client = scriptedClient(log, (n) => {
      if (n > 0) return [stateEvent("finished")];
      log.push("b"); // logged between the fetch and the subscription: no event for it
      return [stateEvent("running"), logEvent(2, "c"), stateEvent("finished")];
    });
    const final = await new RemoteJob(client, ID, false, true).wait();
    expect(final.state).toBe("finished");
    expect(printed).toEqual(["a", "b", "c"]);
  });

  it("prints lines the job wrote after it reported its end, before its process exited", async () => {
    const log: string[] = [];
    const client = scriptedClient(log, (n, emit) => {
      if (n === 0) return [stateEvent("running"), logEvent(0, "a"), stateEvent("finished")];
      // The process is still writing its last lines when the second stream opens.
      emit(stateEvent("finished"));
      emit(logEvent(1, "b"));
      log.push("c");
      return [stateEvent("finished")];
    });
    await new RemoteJob(client, ID, false, true).wait();
    expect(printed).toEqual(["a", "b", "c"]);
  });

  it("prints the whole log of a job that ended before the stream opened, once even when waited for twice", async () => {
    const log = ["a", "b", "c"];
    const client = scriptedClient(log, () => [stateEvent("finished")]);
    const job = new RemoteJob(client, ID, false, true);
    await job.wait();
    await job.wait();
    expect(printed).toEqual(["a", "b", "c"]);
  });

  it("LogPrinter fills a gap from the log and holds pushed lines while a page is on its way", async () => {
    const log = ["0", "1", "2", "3"];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const out: string[] = [];
    const printer = new LogPrinter(async (since) => {
      await gate;
      return { lines: log.slice(since), next: log.length };
    }, (line) => out.push(line));
    printer.onEvent(logEvent(2, "2")); // a gap: fetches from 0
    printer.onEvent(logEvent(3, "3"));
    log.push("4");
    printer.onEvent(logEvent(4, "4"));
    release();
    await printer.flush();
    expect(out).toEqual(["0", "1", "2", "3", "4"]);
    expect(printer.next).toBe(5);
  });
});

describe("remote mode - a RemoteEnvironment script prints its job's output, every run", () => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    dir = makeRepoTmpDir();
  });
  afterAll(() => closeTestServer(server, dir));

  it("prints every line in each of 30 runs", async () => {
    const script = join(dir, "tiny.ts");
    writeFileSync(
      script,
      `import { RemoteEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
const env = new RemoteEnvironment("tiny", { port: ${server.port}, token: ${JSON.stringify(server.token)} });
env.fromBatch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).sink((x: number) => console.log("line " + x));
await env.submit({ autostop: true });
`,
    );
    const expected = Array.from({ length: 10 }, (_, i) => `line ${i}\n`).join("");
    const run = () =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SAGE_TOKEN: "" } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });
    const results: Array<{ code: number | null; stdout: string; stderr: string }> = [];
    // Three at a time: the machine is shared, and concurrency is part of what is checked.
    for (let round = 0; round < 10; round++) results.push(...(await Promise.all([run(), run(), run()])));
    const incomplete = results.filter((result) => result.code !== 0 || result.stdout !== expected);
    expect(incomplete).toEqual([]);
  }, 240_000);
});

describe("LogPrinter - lines the server rolled off its log", () => {
  it("prints them from the events that came while a page was on its way, and announces only what is gone", async () => {
    const printed: string[] = [];
    const dropped: number[] = [];
    let answer: (page: { lines: string[]; next: number }) => void = () => {};
    const printer = new LogPrinter(() => new Promise((resolve) => (answer = resolve)), (line) => printed.push(line), (count) => dropped.push(count));
    const catchingUp = printer.catchUp();
    // Lines 0-9 are pushed while the page is on its way, line 4 lost on the way (a slow reader);
    // by the time the server answers it keeps only lines 8-11.
    for (let i = 0; i < 10; i++) if (i !== 4) printer.onEvent(logEvent(i, `l${i}`));
    answer({ lines: ["l8", "l9", "l10", "l11"], next: 12 });
    await catchingUp;
    expect(printed).toEqual(["l0", "l1", "l2", "l3", "l5", "l6", "l7", "l8", "l9", "l10", "l11"]);
    expect(dropped).toEqual([1]);
    expect(printer.next).toBe(12);
  });

  it("announces the lines of a page that starts past the last one printed", async () => {
    const printed: string[] = [];
    const dropped: number[] = [];
    const printer = new LogPrinter(async () => ({ lines: ["l7", "l8"], next: 9 }), (line) => printed.push(line), (count) => dropped.push(count));
    await printer.catchUp();
    // The events of lines 0-6 may still be on their way: the page waits for them, up to the stream's end.
    expect(printed).toEqual([]);
    await printer.flush();
    expect(printed).toEqual(["l7", "l8"]);
    expect(dropped).toEqual([7]);
  });

  it("waits for the events a page's answer overtook, and prints them before the page", async () => {
    const printed: string[] = [];
    const dropped: number[] = [];
    const printer = new LogPrinter(async () => ({ lines: ["l3", "l4", "l5"], next: 6 }), (line) => printed.push(line), (count) => dropped.push(count));
    printer.onEvent(logEvent(0, "l0"));
    await printer.catchUp(); // answered before the events of lines 1-2 were read
    for (let i = 1; i < 7; i++) printer.onEvent(logEvent(i, `l${i}`));
    expect(printed).toEqual(["l0", "l1", "l2", "l3", "l4", "l5", "l6"]);
    expect(dropped).toEqual([]);
  });
});
