import { randomBytes } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { JobManagerClient } from "../../src/index.js";
import { eventually, jobManagerSlot, sage } from "../cli/sage-cli.js";
import { bundleSource, closeTestServer, killPids, leftoverJobProcesses, makeRepoTmpDir, removeDir, request, SAGE_IMPORT, startTestServer, waitUntil, type TestServer } from "./helpers.js";

const tmp = makeRepoTmpDir();
afterAll(() => removeDir(tmp));

// A job module that stays running for about `ms` and then finishes by itself, quietly: no
// metrics events (every second by default) on its event stream meanwhile.
const sleeper = (ms: number) =>
  bundleSource(
    tmp,
    `sleeper${ms}`,
    `import { LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
const env = new LocalEnvironment("sleeper", { logLevel: "warn", metricsIntervalMs: 60_000 });
env.fromBatch([1, 2, 3, 4, 5]).map(async (x: number) => { await new Promise((r) => setTimeout(r, ${ms / 5})); return x; }).sink(() => {});
await env.submit({ autostop: true });
`,
  );

describe("remote mode - event stream heartbeats", () => {
  let server: TestServer | undefined;

  afterEach(async () => {
    await closeTestServer(server);
    server = undefined;
  });

  it("the server disconnects a peer that stops answering its pings, and keeps one that answers", async () => {
    // Beats 300 ms apart: the peer that answers has that long to (a descheduled process that
    // read its ping late at 100 ms would have been judged deaf too).
    server = await startTestServer({ heartbeatMs: 300 });
    const { id } = (await request(server, "POST", "/api/jobs", { body: { name: "idle", code: await sleeper(3000) } })).body as { id: string };
    const open = (autoPong: boolean) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/api/jobs/${id}/events`, { headers: { authorization: `Bearer ${server!.token}` }, autoPong });
      const closed = new Promise<number>((resolve) => ws.on("close", () => resolve(Date.now())));
      return { ws, closed };
    };
    const deaf = open(false);
    const listening = open(true);
    const opened = Date.now();
    const deafClosed = await Promise.race([deaf.closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5000))]);
    expect(deafClosed, "the peer that never pongs was not disconnected").toBeDefined();
    expect(deafClosed! - opened).toBeLessThan(5 * 300); // at the second beat after it connected
    expect(listening.ws.readyState).toBe(WebSocket.OPEN);
    listening.ws.terminate();
    await listening.closed;
    await request(server, "POST", `/api/jobs/${id}/stop`, { body: { mode: "abort" } });
  });

  it("a client following a healthy but quiet server does not warn", async () => {
    server = await startTestServer();
    const warnings: string[] = [];
    // Silent for 2.5 s but for the pongs, which must count as hearing from it: 800 ms of silence
    // warns (at 300 ms, a client process held still that long by a loaded machine warned too).
    const client = new JobManagerClient({ port: server.port, token: server.token, silenceMs: 800, onWarning: (m) => warnings.push(m) });
    const { id } = await client.submitJob({ name: "quiet", code: await sleeper(2500) });
    const final = await client.waitForJob(id, { timeoutMs: 20_000 });
    expect(final.state).toBe("finished");
    expect(warnings).toEqual([]);
  });

  // A real server in its own process, frozen with SIGSTOP: its sockets stay open but nothing answers.
  it("a client waiting on a frozen JobManager says so, keeps waiting, says when it answers again, and sees the job's end", async () => {
    const slot = await jobManagerSlot();
    const token = randomBytes(18).toString("base64url");
    const run = sage(["jobmanager", "start", "--foreground", ...slot.options], { SAGE_TOKEN: token });
    const pid = run.child.pid!;
    let stopped = false;
    try {
      await eventually(() => /listening/.test(run.output().stderr), 15_000);
      const warnings: string[] = [];
      const client = new JobManagerClient({ port: slot.port, token, silenceMs: 800, onWarning: (m) => warnings.push(m) });
      const { id } = await client.submitJob({ name: "sleeper", code: await sleeper(2500) });
      const waiting = client.waitForJob(id, { timeoutMs: 30_000 });
      waiting.catch(() => {}); // awaited below
      await waitUntil(async () => (await client.getJob(id)).state === "running", 10_000, "the job to run");

      process.kill(pid, "SIGSTOP");
      stopped = true;
      const frozenAt = Date.now();
      await waitUntil(() => warnings.length > 0, 5000, "a warning about the silent server");
      expect(warnings[0]).toBe(`the JobManager at http://127.0.0.1:${slot.port} has not answered for 0.8 s; still waiting`);
      // Frozen past the job's own end: the client must still be waiting, not failed or polling.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 3500 - (Date.now() - frozenAt))));
      const early = await Promise.race([waiting.then(() => "resolved", () => "rejected"), Promise.resolve("waiting")]);
      expect(early).toBe("waiting");
      process.kill(pid, "SIGCONT");
      stopped = false;

      const final = await waiting;
      expect(final.state).toBe("finished");
      expect(warnings).toEqual([
        `the JobManager at http://127.0.0.1:${slot.port} has not answered for 0.8 s; still waiting`,
        `the JobManager at http://127.0.0.1:${slot.port} answers again`,
      ]);
    } finally {
      if (stopped) process.kill(pid, "SIGCONT");
      run.child.kill("SIGTERM");
      await run.done;
      const left = await leftoverJobProcesses(slot.dataDir);
      killPids(left);
      await slot.cleanup([pid]);
      expect(left, "job processes left behind").toEqual([]);
    }
  }, 30_000);
});
