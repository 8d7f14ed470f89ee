/**
 * Remote mode - the JobManager serves the built dashboard (page, hashed assets, favicon) with
 * their content types, nosniff and a CSP without 'unsafe-inline'; says how to build it when it
 * is missing; lets browsers' event streams in by a token subprotocol (never a URL); and serves
 * each job's metrics history behind the token, kept across a restart and deleted with the job.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobEvent } from "../../src/index.js";
import { defaultDashboardDir } from "../../src/jobmanager/dashboard-files.js";
import type { JobHistory } from "../../src/jobmanager/job-history.js";
import { protocolToken, tokenProtocol } from "../../src/jobmanager/socket-auth.js";
import { tokenProtocol as dashboardTokenProtocol } from "../../dashboard/src/lib/token-protocol.js";
import {
  bundleSource,
  closeTestServer,
  makeRepoTmpDir,
  removeDir,
  request,
  SAGE_IMPORT,
  startTestServer,
  submitRaw,
  untilJobProcessEnded,
  type TestServer,
} from "./helpers.js";

// A GET sent as written: fetch would resolve dot segments (`..`, `%2e%2e`) before sending.
function rawGet(port: number, path: string): Promise<{ status: number; type: string }> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, type: String(response.headers["content-type"]) });
    }).on("error", reject);
  });
}

// A made-up build: what the server does with the files, not what Vite writes into them.
function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), "sage-dashboard-build-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), `<!doctype html><title>SAGE JobManager</title><script type="module" src="/assets/index-AbC123.js"></script><link rel="stylesheet" href="/assets/index-AbC123.css">`);
  writeFileSync(join(dir, "assets", "index-AbC123.js"), `console.log("app")`);
  writeFileSync(join(dir, "assets", "index-AbC123.css"), `body { margin: 0 }`);
  writeFileSync(join(dir, "assets", "notes.txt"), `not a type the dashboard uses`);
  writeFileSync(join(dir, "assets", ".hidden.js"), `hidden`);
  writeFileSync(join(dir, "favicon.svg"), `<svg xmlns="http://www.w3.org/2000/svg"/>`);
  return dir;
}

describe("remote mode - the dashboard's files", () => {
  let server: TestServer;
  let build: string;

  beforeAll(async () => {
    build = fakeBuild();
    server = await startTestServer({ dashboardDir: build });
  });

  afterAll(async () => {
    await closeTestServer(server);
    removeDir(build);
  });

  it("serves the page on / and /dashboard without a token, under a CSP without 'unsafe-inline'", async () => {
    for (const path of ["/", "/dashboard"]) {
      const response = await fetch(`${server.baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      for (const directive of ["script-src 'self'", "style-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) expect(csp).toContain(directive);
      expect(await response.text()).toContain("<title>SAGE JobManager</title>");
    }
  });

  it("serves hashed assets and the favicon with their content types, nosniff, and assets cached for good", async () => {
    for (const [path, type, cache] of [
      ["/assets/index-AbC123.js", "text/javascript; charset=utf-8", "immutable"],
      ["/assets/index-AbC123.css", "text/css; charset=utf-8", "immutable"],
      ["/favicon.svg", "image/svg+xml", "no-cache"],
    ] as const) {
      const response = await fetch(`${server.baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toBe(type);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("cache-control"), path).toContain(cache);
      const head = await fetch(`${server.baseUrl}${path}`, { method: "HEAD" });
      expect(head.status, path).toBe(200);
      expect(await head.text()).toBe("");
    }
  });

  it("answers 404 for files it does not have, hidden files, other types and paths out of the folder", async () => {
    // (Plain dot segments, `/assets/..` or `/assets/%2e%2e`, are resolved by the URL parser before any route sees them.)
    for (const path of ["/assets/missing-1.js", "/assets/.hidden.js", "/assets/notes.txt", "/assets/%2e%2e%2findex.html", "/assets/..%2f..%2fjobs.db", "/assets/..%5cindex.html"]) {
      const answer = await rawGet(server.port, path);
      expect(answer.status, path).toBe(404);
      expect(answer.type, path).toContain("application/json");
    }
    // The API behind the page still needs the token.
    expect((await request(server, "GET", "/api/jobs", { token: null })).status).toBe(401);
  });
});

describe("remote mode - a JobManager without a built dashboard", () => {
  it("answers the page with 503 saying to run npm run build, and its API works as ever", async () => {
    const missing = join(tmpdir(), `sage-no-dashboard-${process.pid}`);
    const server = await startTestServer({ dashboardDir: missing });
    try {
      const response = await fetch(`${server.baseUrl}/`);
      expect(response.status).toBe(503);
      expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(await response.text()).toContain("run `npm run build`");
      expect((await fetch(`${server.baseUrl}/assets/index-1.js`)).status).toBe(404);
      expect((await request(server, "GET", "/api/info")).status).toBe(200);
    } finally {
      await closeTestServer(server);
    }
  });
});

describe("remote mode - the package's built dashboard", () => {
  it("is where the server looks by default, and its page loads only files the server serves, nothing inline", async () => {
    const dir = defaultDashboardDir();
    expect(existsSync(join(dir, "index.html")), `no built dashboard in ${dir}: run npm run build`).toBe(true);
    const server = await startTestServer();
    try {
      const html = await (await fetch(`${server.baseUrl}/`)).text();
      expect(html).toBe(readFileSync(join(dir, "index.html"), "utf8"));
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, body] of scripts) {
        expect(attributes).toMatch(/\bsrc="\/assets\/[^"]+\.js"/);
        expect(body!.trim()).toBe("");
      }
      expect(html).not.toMatch(/<style\b/);
      expect(html).not.toMatch(/\sstyle=/);
      expect(html).not.toMatch(/\son[a-z]+=/i);
      const referenced = [...html.matchAll(/\b(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]!);
      expect(referenced.some((path) => path.endsWith(".css"))).toBe(true);
      for (const path of referenced) {
        const response = await fetch(`${server.baseUrl}${path}`);
        expect(response.status, path).toBe(200);
        expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      }
    } finally {
      await closeTestServer(server);
    }
  });
});

describe("remote mode - event streams authorized by a token subprotocol", () => {
  // A token a subprotocol could not carry as it is (space, slash, '=', non-ASCII).
  const token = "a b/c=d,ü-secret-token";
  let server: TestServer;
  let tmp: string;
  let jobId: string;

  beforeAll(async () => {
    tmp = makeRepoTmpDir();
    server = await startTestServer({ token });
    jobId = (await submitRaw(server, "quick", await bundleSource(tmp, "quick", QUICK_JOB))).id;
    await untilJobProcessEnded(server, jobId);
  });

  afterAll(() => closeTestServer(server, tmp));

  const open = (protocols: string[], path = `/api/jobs/${jobId}/events`) => new WebSocket(`ws://127.0.0.1:${server.port}${path}`, protocols);

  it("accepts the token as a subprotocol, answers with sage.v1 only, and streams the job's events", async () => {
    const socket = open(["sage.v1", tokenProtocol(token)]);
    const events: JobEvent[] = [];
    socket.on("message", (data) => events.push(JSON.parse(String(data)) as JobEvent));
    const protocol = await new Promise<string>((resolve, reject) => {
      socket.once("open", () => resolve(socket.protocol));
      socket.once("error", reject);
    });
    expect(protocol).toBe("sage.v1");
    await new Promise((resolve) => socket.once("close", resolve));
    expect(events[0]).toMatchObject({ type: "state", jobId, state: "finished" });
  });

  it("reads the token the way the dashboard encodes it, whatever characters it has", () => {
    for (const given of [token, "plain-token_123", "+/==", "😀 emoji", ""]) {
      expect(dashboardTokenProtocol(given)).toMatch(/^sage\.token\.[A-Za-z0-9_-]*$/);
      expect(dashboardTokenProtocol(given)).toBe(tokenProtocol(given));
      expect(protocolToken(`sage.v1, ${dashboardTokenProtocol(given)}`)).toBe(given);
    }
  });

  it("refuses a wrong token, a garbled one, a token in the URL, and no token, with 401", async () => {
    for (const [protocols, path] of [
      [["sage.v1", tokenProtocol("wrong")], undefined],
      [["sage.v1", "sage.token.%%%"], undefined],
      [["sage.v1"], `/api/jobs/${jobId}/events?token=${encodeURIComponent(token)}`],
      [["sage.v1"], undefined],
    ] as const) {
      const status = await new Promise<number>((resolve) => {
        const socket = open([...protocols], path);
        socket.once("unexpected-response", (_request, response) => {
          resolve(response.statusCode ?? 0);
          socket.terminate();
        });
        socket.once("open", () => resolve(101));
        socket.once("error", () => undefined);
      });
      expect(status, JSON.stringify(protocols)).toBe(401);
    }
  });

  it("keeps the CLI's way, the Authorization header, and never writes the token to its log", async () => {
    const events: JobEvent[] = [];
    for await (const event of server.client.events(jobId)) events.push(event);
    expect(events[0]).toMatchObject({ type: "state", state: "finished" });
    expect(server.logLines.length).toBeGreaterThan(0);
    for (const line of server.logLines) expect(line).not.toContain(token);
  });
});

describe("remote mode - a job's metrics history", () => {
  let server: TestServer;
  let tmp: string;

  beforeAll(async () => {
    tmp = makeRepoTmpDir();
    server = await startTestServer({ historyIntervalMs: 100 });
  });

  afterAll(() => closeTestServer(server, tmp));

  it("is served behind the token, survives a restart of the JobManager, and goes with the job", async () => {
    const { id } = await submitRaw(server, "history", await bundleSource(tmp, "history", PACED_JOB));
    await untilJobProcessEnded(server, id);
    const answer = await request(server, "GET", `/api/jobs/${id}/history`);
    expect(answer.status).toBe(200);
    const history = answer.body as JobHistory;
    expect(history.intervalMs).toBe(100);
    expect(history.t.length).toBeGreaterThanOrEqual(4);
    expect(history.operators.map((o) => o.name)).toEqual(["Numbers", "Slow", "Sink"]);
    const slow = history.operators[1]!;
    for (const column of [slow.recordsInPerSecond, slow.recordsOutPerSecond, slow.backlog, slow.busyMsPerSecond, slow.backPressuredMsPerSecond]) expect(column).toHaveLength(history.t.length);
    // 30 records 30 ms apart: the rate is about 33/s while it runs.
    expect(slow.recordsOutPerSecond.some((v) => v !== null && v > 10 && v < 60), JSON.stringify(slow.recordsOutPerSecond)).toBe(true);
    expect((await request(server, "GET", `/api/jobs/${id}/history`, { token: null })).status).toBe(401);
    expect((await request(server, "GET", `/api/jobs/00000000-0000-4000-8000-000000000000/history`)).status).toBe(404);

    await server.close();
    const restarted = await startTestServer({ dataDir: server.dataDir, token: server.token });
    server = restarted;
    expect((await request(restarted, "GET", `/api/jobs/${id}/history`)).body).toEqual(history);
    expect((await request(restarted, "DELETE", `/api/jobs/${id}`)).status).toBe(200);
    expect((await request(restarted, "GET", `/api/jobs/${id}/history`)).status).toBe(404);
  });
});

const QUICK_JOB = `import { LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
const env = new LocalEnvironment("quick", { logLevel: "warn" });
env.fromBatch([1, 2, 3]).sink(() => {});
await env.submit({ autostop: true });
`;

// About a second of steady work, reported every 50 ms.
const PACED_JOB = `import { LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
const env = new LocalEnvironment("paced", { logLevel: "warn", metricsIntervalMs: 50 });
env.fromBatch(Array.from({ length: 30 }, (_, i) => i), { name: "Numbers" })
  .map(async (x: number) => { await new Promise((r) => setTimeout(r, 30)); return x; }, { name: "Slow" })
  .sink(() => {}, { name: "Sink" });
await env.submit({ autostop: true });
`;
