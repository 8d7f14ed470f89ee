import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import { tokenProtocol } from "../../src/jobmanager/socket-auth.js";
import { closeTestServer, request, startTestServer, untilJobProcessEnded, type TestServer } from "./helpers.js";

// The HTTP surface refuses what it cannot use with a 4xx naming the problem, answers HEAD like
// GET, reveals nothing of its routes before the token check, and keeps its log one line per record.
describe("remote mode - the API surface", () => {
  let server: TestServer;
  let jobId: string;

  beforeAll(async () => {
    server = await startTestServer();
    jobId = (await request(server, "POST", "/api/jobs", { body: { name: "tiny", code: `console.log("x");` } })).body.id as string;
    await untilJobProcessEnded(server, jobId);
  });

  afterAll(async () => {
    await closeTestServer(server);
  });

  describe("a JSON body that is not an object is a 400 naming the problem (null to /stop was a 500)", () => {
    const routes = [
      ["POST", () => "/api/jobs"],
      ["POST", () => `/api/jobs/${jobId}/stop`],
    ] as const;
    for (const [method, path] of routes) {
      it.each([["null"], ["[]"], ["[1]"], ["3"], ['"stop"'], ["true"]])(`${method} %s`, async (raw) => {
        const answer = await request(server, method, path(), { raw });
        expect(answer.status).toBe(400);
        expect(answer.body.error.code).toBe("E_BAD_REQUEST");
        expect(answer.body.error.message).toMatch(/must be a JSON object/);
        expect(answer.body.error.message).toContain(raw.startsWith("[") ? "an array" : raw === "null" ? "null" : typeof JSON.parse(raw));
      });
    }
  });

  describe("submit options are checked (arrays were accepted as objects)", () => {
    const code = "export {}";
    it.each([
      ["options: []", { code, options: [] }, /'options' must be an object/],
      ["options.env: []", { code, options: { env: [] } }, /'options.env' must be an object/],
      ["options.env: null", { code, options: { env: null } }, /'options.env' must be an object/],
      ["an env value that is not a string", { code, options: { env: { A: 1 } } }, /'options.env.A' must be a string/],
      ["an env name with '='", { code, options: { env: { "A=B": "x" } } }, /'options.env' has an invalid variable name "A=B"/],
      ["an empty env name", { code, options: { env: { "": "x" } } }, /invalid variable name ""/],
      ["an env name with a NUL", { code, options: { env: { "A\u0000": "x" } } }, /invalid variable name/],
      ["too many env variables", { code, options: { env: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`V${i}`, "x"])) } }, /at most 1000 variables/],
      ["an env value too long", { code, options: { env: { A: "x".repeat(128 * 1024 + 1) } } }, /'options.env.A' is longer than/],
      ["autostop: 'yes'", { code, options: { autostop: "yes" } }, /'options': autostop must be a boolean, got "yes"/],
      ["keepServices: 1", { code, options: { keepServices: 1 } }, /'options': keepServices must be a boolean, got 1/],
      ["a name too long", { code, name: "n".repeat(201) }, /'name' is longer than 200 characters/],
      ["a label too long", { code, label: "l".repeat(201) }, /'label' is longer than 200 characters/],
    ])("refuses %s with 400", async (_what, body, message) => {
      const answer = await request(server, "POST", "/api/jobs", { body });
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("E_BAD_REQUEST");
      expect(answer.body.error.message).toMatch(message);
    });

    it("still accepts well-formed options", async () => {
      const answer = await request(server, "POST", "/api/jobs", {
        body: { code: `console.log(process.env.GREETING)`, name: "n".repeat(200), options: { autostop: false, keepServices: false, env: { GREETING: "hi", _X1: "" } } },
      });
      expect(answer.status).toBe(201);
      await untilJobProcessEnded(server, answer.body.id);
    });
  });

  describe("HEAD and the order of 401, 404 and 405", () => {
    it("answers HEAD on GET routes like GET, without a body (it was a 405)", async () => {
      for (const [path, token] of [["/api/health", null], ["/", null], ["/api/jobs", undefined], [`/api/jobs/${jobId}`, undefined], [`/api/jobs/${jobId}/logs`, undefined]] as const) {
        const get = await fetch(`${server.baseUrl}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${server.token}` } });
        const head = await fetch(`${server.baseUrl}${path}`, { method: "HEAD", headers: token === null ? {} : { authorization: `Bearer ${server.token}` } });
        expect(head.status, path).toBe(get.status);
        expect(head.headers.get("content-type"), path).toBe(get.headers.get("content-type"));
        expect(await head.text(), path).toBe("");
      }
      expect((await fetch(`${server.baseUrl}/api/jobs`, { method: "HEAD" })).status).toBe(401);
    });

    it("answers a request without a token 401 whatever the path or method (404 and 405 came first)", async () => {
      for (const [method, path] of [["GET", "/nowhere"], ["DELETE", "/api/info"], ["PUT", "/api/jobs"], ["GET", "/api/jobs/x/y/z"], ["POST", "/api/jobs/abcd/stop"]]) {
        const answer = await request(server, method!, path!, { token: null });
        expect(answer.status, `${method} ${path}`).toBe(401);
      }
      expect((await request(server, "GET", "/nowhere")).status).toBe(404);
      const wrongMethod = await fetch(`${server.baseUrl}/api/info`, { method: "DELETE", headers: { authorization: `Bearer ${server.token}` } });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get("allow")).toBe("GET, HEAD");
    });

    it("refuses a WebSocket upgrade without a token with 401, on any path", async () => {
      for (const path of ["/nowhere", `/api/jobs/${jobId}/events`]) expect(await upgradeStatus(server.port, path), path).toBe(401);
      expect(await upgradeStatus(server.port, "/nowhere", { "sec-websocket-protocol": `sage.v1, ${tokenProtocol(server.token)}` })).toBe(404);
      // A token in the URL is no way in: URLs end up in logs and histories.
      expect(await upgradeStatus(server.port, `/nowhere?token=${server.token}`)).toBe(401);
    });
  });

  it("keeps a job name with a newline or other control character on one log line (it forged lines)", async () => {
    const forged = "evil\n00:00:00.000 ERROR jobmanager: forged line\r\u001b[2Jcleared\u0000";
    const answer = await request(server, "POST", "/api/jobs", { body: { name: forged, code: `console.log("x");` } });
    expect(answer.status).toBe(201);
    await untilJobProcessEnded(server, answer.body.id);
    const about = server.logLines.filter((line) => line.includes(answer.body.id));
    expect(about.length).toBeGreaterThanOrEqual(2); // submitted, ended
    for (const line of about) {
      expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(line).toContain("evil\\n00:00:00.000 ERROR jobmanager: forged line\\r\\x1b[2Jcleared\\x00");
    }
  });
});

// The status of a WebSocket upgrade request sent without an Authorization header (with `headers` besides).
function upgradeStatus(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`),
    );
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk;
      const match = /^HTTP\/1\.1 (\d+)/.exec(text);
      if (match) {
        resolve(Number(match[1]));
        socket.destroy();
      }
    });
    socket.on("error", reject);
  });
}
