import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { health, removeDir, request, startTestServer, waitUntil, type TestServer } from "./helpers.js";

// Each case once crashed or wedged the server; the comment says how.
describe("remote mode - the server survives hostile clients", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.close();
    removeDir(server.dataDir);
  });

  it("survives a peer that resets the connection after a refused WebSocket upgrade (an unhandled ECONNRESET killed it)", async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(server.port, "127.0.0.1", () =>
        socket.write(
          "GET /api/jobs/abcd/events HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        ),
      );
      socket.on("data", () => {
        socket.resetAndDestroy();
        resolve();
      });
      socket.on("error", () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await health(server)).status).toBe(200);
  });

  it("survives an oversized frame on an event stream (a RangeError killed it)", async () => {
    // An event stream needs a real job id (an unknown one is refused before the upgrade).
    const { id } = (await request(server, "POST", "/api/jobs", { body: { name: "tiny", code: `console.log("x");` } })).body as { id: string };
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/api/jobs/${id}/events`, { headers: { authorization: `Bearer ${server.token}` } });
    await new Promise<void>((resolve) => socket.on("open", () => resolve()));
    socket.send(Buffer.alloc(2 * 1024 * 1024));
    await new Promise<void>((resolve) => socket.on("close", () => resolve()));
    expect((await health(server)).status).toBe(200);
  });

  it.each([
    ["a malformed % escape in the path", "GET", "/api/jobs/%E0%A4%A", undefined],
    ["a stop with a grace that is not a number", "POST", "/api/jobs/abcdef/stop", { graceMs: "soon" }],
    ["a timeout longer than a timer can wait", "POST", "/api/jobs", { name: "x", code: "export {}", options: { timeoutMs: 2 ** 31 } }],
  ])("answers %s with 400 (it was a 500, or a kill at once)", async (_name, method, path, body) => {
    const answer = await request(server, method, path, body === undefined ? {} : { body });
    expect([400, 404]).toContain(answer.status);
    if (answer.status === 404) expect(path).toContain("/stop"); // unknown job: refused before the body
    expect((await health(server)).status).toBe(200);
  });

  it("closes promptly while a client follows an event stream (close waited for the socket)", async () => {
    const other = await startTestServer();
    const code = `await new Promise((r) => setTimeout(r, 60_000));`;
    const submitted = (await request(other, "POST", "/api/jobs", { body: { name: "idle", code } })).body as { id: string };
    const socket = new WebSocket(`ws://127.0.0.1:${other.port}/api/jobs/${submitted.id}/events`, { headers: { authorization: `Bearer ${other.token}` } });
    await new Promise<void>((resolve) => socket.on("message", () => resolve()));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(5000);
    removeDir(other.dataDir);
  });
});

describe("remote mode - a server that shuts down", () => {
  it("tells a client following a job how the job ended before its event stream closes", async () => {
    const other = await startTestServer();
    try {
      const code = `await new Promise((r) => setTimeout(r, 60_000));`;
      const submitted = (await request(other, "POST", "/api/jobs", { body: { name: "idle", code } })).body as { id: string };
      const events = other.client.events(submitted.id);
      const states: string[] = [];
      const followed = (async () => {
        for await (const event of events) if (event.type === "state") states.push(event.state);
      })();
      await waitUntil(() => states.length > 0, 5000, "the first state");
      await other.close();
      await followed;
      expect(states.at(-1)).toBe("failed");
    } finally {
      await other.close();
      removeDir(other.dataDir);
    }
  });
});

describe("remote mode - the dashboard", () => {
  it("serves the dashboard page without a token, and the API behind it still needs one", async () => {
    const server = await startTestServer();
    try {
      for (const path of ["/", "/dashboard"]) {
        const response = await fetch(`${server.baseUrl}${path}`);
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toMatch(/text\/html/);
        const html = await response.text();
        expect(html).toContain("<title>SAGE JobManager</title>");
      }
      const html = await (await fetch(`${server.baseUrl}/`)).text();
      const script = await fetch(`${server.baseUrl}${/<script[^>]*\bsrc="([^"]+)"/.exec(html)![1]}`);
      expect(script.status).toBe(200);
      // It talks to the API with the token the user gives it (a boolean: a failure must not print the bundle).
      expect((await script.text()).includes("/api/jobs")).toBe(true);
      expect((await request(server, "GET", "/api/jobs", { token: null })).status).toBe(401);
    } finally {
      await server.close();
      removeDir(server.dataDir);
    }
  });
});
