import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeTestServer, startTestServer, waitUntil, type TestServer } from "./helpers.js";

// Markup in a status field: a job process reports its own status, so a job can put anything in it.
const XSS = `<img src=x onerror="alert(1)">`;

describe("remote mode - the dashboard escapes what it shows and runs no inline script", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await closeTestServer(server);
  });

  it("serves the page under a CSP without 'unsafe-inline', with no inline script, style or handler", async () => {
    const response = await fetch(`${server.baseUrl}/`);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await response.text();
    for (const [, attributes, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(attributes).toMatch(/\bsrc="\/[^"]+"/);
      expect(body!.trim()).toBe("");
    }
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/javascript:/i);
  });

  it("serves its script and stylesheet without a token, with their content types", async () => {
    for (const [path, type] of [["/dashboard.js", "text/javascript"], ["/dashboard.css", "text/css"]] as const) {
      const response = await fetch(`${server.baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toContain(type);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
  });

  it("escapes every field of a forged status, numbers included, in the job list and the detail", async () => {
    const forged = {
      id: `abcd1234${XSS}`,
      name: XSS,
      state: "running",
      platform: XSS,
      runtimeMs: XSS,
      tasks: XSS,
      services: XSS,
      operators: [{ name: XSS, kind: XSS, parallelism: XSS, recordsIn: XSS, recordsOut: XSS, errors: XSS }],
      serviceDetails: [{ name: XSS, state: XSS, calls: XSS, metrics: { [XSS]: XSS, requests: 3 } }],
      error: { operator: XSS, message: XSS },
    };
    const page = await loadDashboard(server, (path) => {
      if (path === "/api/info") return { version: XSS, host: "127.0.0.1", port: server.port };
      if (path === "/api/jobs") return [forged];
      if (path.endsWith("/logs")) return { lines: [XSS], next: 1 };
      return forged;
    });
    await waitUntil(() => page.element("detail").innerHTML.includes("Operator") && page.sockets.length > 0, 5000, "the dashboard to render the job");
    const jobs = page.element("jobs").innerHTML;
    expect(jobs).toContain("&lt;img");
    expect(jobs).not.toContain("<img");
    expect(page.element("detail").innerHTML).toContain("&lt;img");
    expect(page.element("detail").innerHTML).not.toContain("<img");
    // The live stream renders the same way.
    page.sockets[0]!.emit("message", { data: JSON.stringify({ type: "metrics", jobId: forged.id, status: { ...forged, tasks: `${XSS}live` } }) });
    expect(page.element("detail").innerHTML).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;live");
    expect(page.element("detail").innerHTML).not.toContain("<img");
    page.stop();
  });

  it("shows the cluster's workers in the server overview and a remote service's worker, escaped", async () => {
    const job = { id: "abcd1234", name: "d", state: "finished", platform: "distributed", runtimeMs: 1, tasks: 0, services: 0, operators: [], serviceDetails: [{ name: "vectors", state: "stopped", calls: 2, worker: XSS }] };
    const workers = [{ name: "w1", host: "a", slots: 4, used: 1, jobs: [], lastBeatMs: 10 }, { name: XSS, host: "b", slots: 2, used: 0, jobs: [], lastBeatMs: 10 }];
    const page = await loadDashboard(server, (path) => {
      if (path === "/api/info") return { version: "1", host: "127.0.0.1", port: server.port, cluster: { url: "nats://***@h:4222", connected: true, workers } };
      if (path === "/api/jobs") return [job];
      if (path.endsWith("/logs")) return { lines: [], next: 0 };
      return job;
    });
    await waitUntil(() => page.element("detail").innerHTML.includes("Services"), 5000, "the dashboard to render the job");
    // textContent: the browser shows it as text, markup included.
    expect(page.element("server").textContent).toBe(`v1 · 127.0.0.1:${server.port} · cluster nats://***@h:4222 · w1 1/4, ${XSS} 0/2`);
    expect(page.element("detail").innerHTML).toContain("vectors (stopped, 2 calls, on &lt;img");
    page.stop();
  });

  it("shows a service's counters under it, live from the event stream", async () => {
    const service = { name: "llm", state: "running", remote: false, calls: 3, metrics: { requests: 3, promptTokens: 120 } };
    const job = { id: "abcd5678", name: "m", state: "running", platform: "remote", runtimeMs: 1, tasks: 1, services: 1, operators: [], serviceDetails: [service, { name: "plain", state: "running", remote: false, calls: 0 }] };
    const page = await loadDashboard(server, (path) => {
      if (path === "/api/info") return { version: "1", host: "127.0.0.1", port: server.port };
      if (path === "/api/jobs") return [job];
      if (path.endsWith("/logs")) return { lines: [], next: 0 };
      return job;
    });
    await waitUntil(() => page.element("detail").innerHTML.includes("Services") && page.sockets.length > 0, 5000, "the dashboard to render the job");
    expect(page.element("detail").innerHTML).toContain('<li>llm (running, 3 calls)<br><small class="metrics">requests 3 · promptTokens 120</small></li><li>plain (running, 0 calls)</li>');
    const later = { ...job, serviceDetails: [{ ...service, calls: 9, metrics: { requests: 9, promptTokens: 360, cacheHits: 2 } }] };
    page.sockets[0]!.emit("message", { data: JSON.stringify({ type: "metrics", jobId: job.id, status: later }) });
    expect(page.element("detail").innerHTML).toContain("requests 9 · promptTokens 360 · cacheHits 2");
    // A forged metrics field that is not an object shows nothing rather than breaking the page.
    page.sockets[0]!.emit("message", { data: JSON.stringify({ type: "metrics", jobId: job.id, status: { ...job, serviceDetails: [{ ...service, metrics: "<b>x</b>" }] } }) });
    expect(page.element("detail").innerHTML).toContain("<li>llm (running, 3 calls)</li>");
    page.stop();
  });
});

interface FakeElement {
  innerHTML: string;
  textContent: string;
  hidden: boolean;
  value: string;
  dataset: Record<string, string>;
  addEventListener(type: string, listener: (...args: unknown[]) => void): void;
}

/**
 * Runs the dashboard's script, as the page references it, against a minimal DOM: elements are
 * plain objects, fetch answers from `answer`, WebSockets are recorded (no browser needed).
 */
async function loadDashboard(server: TestServer, answer: (path: string) => unknown) {
  const html = await (await fetch(`${server.baseUrl}/`)).text();
  const scripts: string[] = [];
  for (const [, attributes, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    const src = /\bsrc="([^"]+)"/.exec(attributes!)?.[1];
    scripts.push(src ? await (await fetch(`${server.baseUrl}${src}`)).text() : body!);
  }
  const elements = new Map<string, FakeElement>();
  const element = (id: string): FakeElement => {
    let found = elements.get(id);
    if (!found) {
      found = { innerHTML: "", textContent: "", hidden: false, value: "", dataset: {}, addEventListener() {} };
      elements.set(id, found);
    }
    return found;
  };
  const sockets: Array<{ emit(type: string, event: unknown): void }> = [];
  class FakeWebSocket {
    readonly listeners = new Map<string, Array<(event: unknown) => void>>();
    onmessage?: (event: unknown) => void;
    constructor() {
      sockets.push(this);
    }
    addEventListener(type: string, listener: (event: unknown) => void) {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }
    emit(type: string, event: unknown) {
      for (const listener of this.listeners.get(type) ?? []) listener(event);
      if (type === "message") this.onmessage?.(event);
    }
    close() {}
  }
  const intervals: NodeJS.Timeout[] = [];
  const globals = {
    document: { getElementById: element, querySelectorAll: () => [] },
    localStorage: { getItem: () => "a-token", setItem() {} },
    location: { hash: "", pathname: "/", protocol: "http:", host: `127.0.0.1:${server.port}` },
    history: { replaceState() {} },
    fetch: async (path: string) => ({ status: 200, ok: true, statusText: "OK", json: async () => answer(path) }),
    WebSocket: FakeWebSocket,
    setInterval: (fn: () => void, ms: number) => {
      const timer = setInterval(fn, ms);
      intervals.push(timer);
      return timer;
    },
  };
  for (const script of scripts) new Function(...Object.keys(globals), script)(...Object.values(globals));
  return { element, sockets, stop: () => intervals.forEach(clearInterval) };
}
