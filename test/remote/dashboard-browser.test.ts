/**
 * Remote mode - the dashboard in a real headless Chromium (playwright-core, Debian's chromium or
 * CHROMIUM_PATH) against a real JobManager: login, the job list and its filters, a running job's
 * live graph, a node's instances, stop, reload, a finished job's charts, abort and delete. Any
 * console error or CSP violation in the page fails the test. Screenshots of each page are saved
 * in test-artifacts/dashboard/ (git-ignored).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultDashboardDir } from "../../src/jobmanager/dashboard-files.js";
import {
  bundleSource,
  closeTestServer,
  makeRepoTmpDir,
  remoteTestDir,
  request,
  SAGE_IMPORT,
  TICKER_SERVICE,
  startTestServer,
  submitRaw,
  untilJobProcessEnded,
  waitUntil,
  type TestServer,
} from "./helpers.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(remoteTestDir, "..", "..", "test-artifacts", "dashboard");
if (!HAS_CHROMIUM) console.warn(`[dashboard browser tests] skipped: no Chromium at ${CHROMIUM} (install the Debian package chromium, or set CHROMIUM_PATH)`);

const STEP_MS = 60_000;
// A tab's first graph loads and starts ELK (1.4 MB of script): about 0.1-1 s alone, several under a loaded suite.
const FIRST_LAYOUT_MS = 15_000;

describe.skipIf(!HAS_CHROMIUM)("remote mode - the dashboard in a browser", () => {
  let server: TestServer;
  let tmp: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  // Console errors and CSP violations the page reported; each test must end with none.
  let problems: string[] = [];
  const jobs: Record<"live" | "aborted" | "finished" | "kept", string> = { live: "", aborted: "", finished: "", kept: "" };

  beforeAll(async () => {
    expect(existsSync(join(defaultDashboardDir(), "index.html")), "the dashboard is not built: run npm run build").toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    tmp = makeRepoTmpDir();
    server = await startTestServer({ historyIntervalMs: 250 });
    const bounded: string[] = [];
    for (const n of [1, 2, 3]) bounded.push((await submitRaw(server, `batch-${n}`, await bundleSource(tmp, `batch${n}`, QUICK_JOB))).id);
    jobs.finished = (await submitRaw(server, "rag-finished", await bundleSource(tmp, "finished", SERVICE_JOB))).id;
    bounded.push(jobs.finished);
    jobs.kept = (await submitRaw(server, "kept-ticker", await bundleSource(tmp, "kept", KEPT_JOB))).id;
    jobs.live = (await submitRaw(server, "ticks-live", await bundleSource(tmp, "live", ENDLESS_JOB))).id;
    jobs.aborted = (await submitRaw(server, "ticks-to-abort", await bundleSource(tmp, "aborted", ENDLESS_JOB))).id;
    for (const id of [jobs.live, jobs.aborted]) {
      await waitUntil(async () => (await request(server, "GET", `/api/jobs/${id}`)).body.state === "running", 20_000, `job ${id} to run`);
    }
    // The overview's filters are checked against each job's state: the bounded jobs must have ended first.
    for (const id of bounded) {
      await waitUntil(async () => (await request(server, "GET", `/api/jobs/${id}`)).body.state === "finished", 20_000, `job ${id} to finish`);
    }
    profile = mkdtempSync(join(tmpdir(), "sage-dashboard-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
    });
    page = await watched(context.pages()[0] ?? (await context.newPage()));
    console.log(`[dashboard browser tests] screenshots go to ${ARTIFACTS}`);
  }, STEP_MS);

  afterEach(() => {
    const seen = problems;
    problems = [];
    expect(seen, "the page reported errors").toEqual([]);
  });

  afterAll(async () => {
    await context?.close();
    const left = profile ? processesUsing(profile) : [];
    if (profile) rmSync(profile, { recursive: true, force: true });
    await closeTestServer(server, tmp);
    expect(left, "browser processes left behind").toEqual([]);
  }, STEP_MS);

  // Reports the page's console errors, uncaught errors and CSP violations into `problems`.
  const watched = async (target: Page): Promise<Page> => {
    await target.exposeFunction("__reportCspViolation", (text: string) => problems.push(`CSP violation: ${text}`));
    // Init scripts run through the DevTools protocol, outside the page's CSP. (Browser code as
    // text: this file is typed for Node, without the DOM.)
    await target.addInitScript({
      content: `document.addEventListener("securitypolicyviolation", (e) => window.__reportCspViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " (" + e.sourceFile + ":" + e.lineNumber + ")"));`,
    });
    target.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    target.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    return target;
  };

  const shot = async (name: string, of: Page = page) => {
    const file = join(ARTIFACTS, `${name}.png`);
    await of.screenshot({ path: file, fullPage: true });
    console.log(`[dashboard browser tests] screenshot ${file}`);
  };
  const stateOf = (id: string) => page.locator(`tr[data-job-id="${id}"] .badge`);

  it("shows the login box alone, and says so clearly when the token is wrong", { timeout: STEP_MS }, async () => {
    const response = await page.goto(server.baseUrl);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    const form = page.locator('form[aria-label="Log in"]');
    await form.waitFor();
    // Nothing of the app behind it: no header, no job list, not even hidden.
    expect(await page.locator(".app, .topbar, .job-list").count()).toBe(0);
    expect(await page.locator("#token").isVisible()).toBe(true);
    await shot("login");

    await page.fill("#token", "not-the-token");
    await page.click('button[type="submit"]');
    await expect.poll(() => page.locator("#login-error").textContent()).toContain("Wrong token");
    expect(await page.locator(".app").count()).toBe(0);
    // The refused request is the one error the browser logs here, as it logs every 401.
    expect(problems.length).toBeLessThanOrEqual(1);
    for (const problem of problems) expect(problem).toMatch(/401/);
    problems = [];
  });

  it("logs in with the token, kept out of the URL; the overview lists the jobs and the filters work", { timeout: STEP_MS }, async () => {
    await page.fill("#token", server.token);
    await page.click('button[type="submit"]');
    await page.locator(".server-overview").waitFor();
    expect(page.url()).not.toContain(server.token);
    expect(await page.evaluate(`sessionStorage.getItem("sage.jobmanager.token")`)).toBe(server.token);
    const rows = page.locator("table.jobs tbody tr");
    await expect.poll(() => rows.count()).toBe(7);
    // Newest first.
    expect(await rows.first().locator(".job-link").textContent()).toBe("ticks-to-abort");
    await expect.poll(() => page.locator('[data-testid="process-count"]').textContent()).not.toBe("0");

    await page.fill('input[name="query"]', "batch");
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.locator(".job-link").allTextContents()).toEqual(["batch-3", "batch-2", "batch-1"]);
    expect(page.url()).toContain("q=batch");
    await page.fill('input[name="query"]', "");
    await page.selectOption('select[name="state"]', "running");
    await expect.poll(async () => (await rows.locator(".job-link").allTextContents()).sort()).toEqual(["ticks-live", "ticks-to-abort"]);
    await page.selectOption('select[name="state"]', "");
    await expect.poll(() => rows.count()).toBe(7);
    await shot("overview");
  });

  it("opens a running job: its graph shows operators and edges, counters move, a node opens its instances", { timeout: STEP_MS }, async () => {
    await page.click(`tr[data-job-id="${jobs.live}"] .job-link`);
    await page.waitForURL(`**/#/jobs/${jobs.live}`);
    const nodes = page.locator("svg.graph g.node");
    await expect.poll(() => nodes.count(), { timeout: FIRST_LAYOUT_MS }).toBe(3);
    expect(await nodes.evaluateAll((all) => all.map((n) => n.getAttribute("data-operator")))).toEqual(["Ticks", "Double", "Print"]);
    const edges = page.locator("svg.graph g.edge");
    expect(await edges.count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator("svg.graph .edge-label text").allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/rebalance|forward|hash|broadcast/)]));

    const recordsOut = async () => Number((await page.locator('g.node[data-operator="Ticks"] [data-field="records-out"]').textContent())!.replace(/,/g, ""));
    const first = await recordsOut();
    await expect.poll(recordsOut, { timeout: 10_000 }).toBeGreaterThan(first);
    await expect.poll(async () => page.locator('g.node[data-operator="Double"] [data-field="rate-out"]').textContent(), { timeout: 10_000 }).toMatch(/^[1-9]|^0\.[0-9]*[1-9]/);

    await page.click('g.node[data-operator="Double"]');
    const panel = page.locator(".operator-panel");
    await panel.waitFor();
    await expect.poll(() => panel.locator("tr[data-instance]").count(), { timeout: 10_000 }).toBe(2);
    expect(await panel.locator("h3").textContent()).toContain("Double");
    // The log follows the job's output.
    await expect.poll(() => page.locator(".log-lines").textContent(), { timeout: 10_000 }).toContain("tick");
    await shot("job-graph");
  });

  it("keeps the job's page on a reload (hash link, token kept for the tab)", { timeout: STEP_MS }, async () => {
    await page.reload();
    await page.locator('[data-testid="job-name"]').waitFor();
    expect(page.url()).toContain(`#/jobs/${jobs.live}`);
    expect(await page.locator('[data-testid="job-name"]').textContent()).toBe("ticks-live");
    await expect.poll(() => page.locator("svg.graph g.node").count(), { timeout: FIRST_LAYOUT_MS }).toBe(3);
  });

  it("stops the job with the stop button", { timeout: STEP_MS }, async () => {
    await page.click('button[data-action="stop"]');
    await expect.poll(() => page.locator(".job-header .badge").first().textContent(), { timeout: 30_000 }).toBe("stopped");
    expect((await request(server, "GET", `/api/jobs/${jobs.live}`)).body.state).toBe("stopped");
    // Ended: no stop or abort any more, delete instead.
    await page.locator('button[data-action="delete"]').waitFor();
    expect(await page.locator('button[data-action="stop"]').count()).toBe(0);
  });

  it("shows a finished job's charts drawn from its history, its services with their counters, and its log", { timeout: STEP_MS }, async () => {
    await untilJobProcessEnded(server, jobs.finished, 30_000);
    await page.goto(`${server.baseUrl}/#/jobs/${jobs.finished}`);
    await expect.poll(() => page.locator('[data-testid="job-name"]').textContent()).toBe("rag-finished");
    expect(await page.locator(".job-header .badge").first().textContent()).toBe("finished");
    for (const chart of ["throughput", "backlog", "backpressure", "latency"]) {
      const figure = page.locator(`figure[data-chart="${chart}"]`);
      await figure.locator("canvas").waitFor();
      expect(Number(await figure.getAttribute("data-points")), chart).toBeGreaterThanOrEqual(3);
    }
    // uPlot drew on its canvases: lines and axes, not a blank sheet.
    const painted = await page.locator('figure[data-chart="throughput"] canvas').evaluate((canvas: any) => {
      const pixels: Uint8ClampedArray = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) count++;
      return count;
    });
    expect(painted).toBeGreaterThan(500);
    expect(await page.locator('[data-testid="service-summary"]').textContent()).toBe("1 listed · 0 live instances");
    const llm = page.locator('tr[data-service="llm"]');
    expect(await llm.locator(".badge").textContent()).toBe("stopped");
    expect(await llm.locator(".chips").textContent()).toContain("promptTokens");
    // The LLM numbers summed up top: 40 prompts of "question N", 10 + 30 × 11 characters.
    expect(await page.locator('[data-testid="llm-usage"]').textContent()).toBe("430 tokens · 430 prompt tokens · 0 cache hits");
    // The log opens scrolled to its end.
    const log = page.locator(".log-lines");
    await expect.poll(() => log.textContent()).toContain("answered 40");
    expect(await log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThanOrEqual(24);
    await shot("job-finished-charts");

    // A narrow window: everything still fits its width (wide tables and the graph scroll in their boxes).
    await page.setViewportSize({ width: 400, height: 900 });
    await expect.poll(() => page.evaluate(`document.documentElement.scrollWidth <= window.innerWidth + 1`)).toBe(true);
    await shot("job-finished-narrow");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("follows a finished job that keeps services: their counters keep moving on a page opened after its end", { timeout: STEP_MS }, async () => {
    await waitUntil(async () => (await request(server, "GET", `/api/jobs/${jobs.kept}`)).body.state === "finished", 20_000, "the kept job to finish");
    await page.goto(`${server.baseUrl}/#/jobs/${jobs.kept}`);
    await expect.poll(() => page.locator('[data-testid="job-name"]').textContent()).toBe("kept-ticker");
    const ticks = async () => Number(/ticks\s*([\d,]+)/.exec((await page.locator('tr[data-service="ticker"] .chips').textContent()) ?? "")?.[1]?.replace(/,/g, "") ?? -1);
    await expect.poll(ticks, { timeout: 10_000 }).toBeGreaterThanOrEqual(0);
    const first = await ticks();
    // The page read the status once, at the end: the counter moves only if it follows the job's samples.
    await expect.poll(ticks, { timeout: 10_000 }).toBeGreaterThan(first);
    expect(await page.locator(".job-header .badge").first().textContent()).toBe("finished");
    // Released, the services stop and the job's process ends.
    await request(server, "POST", `/api/jobs/${jobs.kept}/stop`, {});
    await untilJobProcessEnded(server, jobs.kept, 30_000);
    await expect.poll(() => page.locator('tr[data-service="ticker"] .badge').textContent(), { timeout: 10_000 }).toBe("stopped");
  });

  it("aborts a running job, then deletes it after a confirmation", { timeout: STEP_MS }, async () => {
    await page.goto(`${server.baseUrl}/#/jobs/${jobs.aborted}`);
    await expect.poll(() => page.locator('[data-testid="job-name"]').textContent()).toBe("ticks-to-abort");
    await page.locator('button[data-action="abort"]').click();
    await expect.poll(() => page.locator(".job-header .badge").first().textContent(), { timeout: 30_000 }).toBe("stopped");
    await untilJobProcessEnded(server, jobs.aborted);

    await page.click('button[data-action="delete"]');
    // Nothing is deleted before the confirmation; cancel leaves the job as it was.
    await page.click('button[data-action="cancel-delete"]');
    expect((await request(server, "GET", `/api/jobs/${jobs.aborted}`)).status).toBe(200);
    await page.click('button[data-action="delete"]');
    await page.click('button[data-action="confirm-delete"]');
    await page.waitForURL((url) => url.hash === "#/");
    await expect.poll(() => page.locator("table.jobs tbody tr").count()).toBe(6);
    expect(await stateOf(jobs.aborted).count()).toBe(0);
    expect((await request(server, "GET", `/api/jobs/${jobs.aborted}`)).status).toBe(404);
  });

  it("shows what a server reports as text, markup included, pages a long list, and shows a cluster's workers", { timeout: STEP_MS }, async () => {
    // A job process reports its own status: any name or message may hold markup. The answers
    // are forged here, in a tab of its own, as a JobManager with a cluster would send them.
    const forged = await watched(await context.newPage());
    const api = forgedApi();
    await forged.route("**/api/**", (route) => {
      const path = new URL(route.request().url()).pathname;
      const body = api(path);
      return body === undefined ? route.fulfill({ status: 404, json: { error: { code: "E_NOT_FOUND", message: "no" } } }) : route.fulfill({ json: body });
    });
    try {
      await forged.goto(`${server.baseUrl}/`);
      await forged.fill("#token", "any");
      await forged.click('button[type="submit"]');
      const rows = forged.locator("table.jobs tbody tr");
      await expect.poll(() => rows.count()).toBe(15);
      expect(await forged.locator(".pager").textContent()).toContain("Page 1 of 3 · 41 jobs");
      // The cluster: its address and workers as text, their slots and the jobs they run.
      const worker = forged.locator("table.workers tbody tr");
      expect(await worker.count()).toBe(2);
      expect(await worker.first().textContent()).toContain(XSS);
      expect(await worker.first().textContent()).toContain("1/4");
      expect(await worker.nth(1).locator("a").textContent()).toBe(XSS);
      expect(await forged.locator(".cluster h3").textContent()).toContain("disconnected");
      await forged.click('button:has-text("Older")');
      await expect.poll(() => forged.url()).toContain("page=2");
      await forged.reload();
      await expect.poll(() => rows.count()).toBe(15);
      expect(await forged.locator(".pager").textContent()).toContain("Page 2 of 3");
      await shot("forged-overview-cluster", forged);

      await forged.goto(`${server.baseUrl}/#/jobs/${FORGED_ID}`);
      await forged.locator('[data-testid="job-name"]').waitFor();
      expect(await forged.locator('[data-testid="job-name"]').textContent()).toBe(XSS);
      await expect.poll(() => forged.locator("svg.graph g.node").count(), { timeout: FIRST_LAYOUT_MS }).toBe(2);
      await forged.click("svg.graph g.node >> nth=1");
      await forged.locator(".operator-panel tr[data-instance]").first().waitFor();
      expect(await forged.locator(".operator-panel tbody").textContent()).toContain(XSS);
      expect(await forged.locator(".job-error").textContent()).toContain(XSS);
      expect(await forged.locator(".services-table").textContent()).toContain(XSS);
      await expect.poll(() => forged.locator(".log-lines").textContent()).toContain(XSS);
      await forged.locator('figure[data-chart="throughput"] canvas').waitFor();
      // None of it became markup, and no handler in it ran.
      expect(await forged.locator("img, script:not([src])").count()).toBe(0);
      expect(await forged.evaluate("window.__xss")).toBeUndefined();
      await shot("forged-job-distributed", forged);
    } finally {
      await forged.close();
    }
  });
});

const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;
const FORGED_ID = "abcd1234-0000-4000-8000-000000000000";

// The answers of a JobManager whose jobs report markup everywhere, with a cluster of two workers.
function forgedApi(): (path: string) => unknown {
  const t0 = Date.parse("2026-01-01T10:00:00.000Z");
  const instance = (index: number) => ({ index, worker: XSS, recordsIn: 5, recordsOut: 5, errors: 0, recordsInPerSecond: 1, recordsOutPerSecond: 1, inFlight: 0, backlog: 1, backlogFill: 0.1, backPressuredMsPerSecond: 600, busyMsPerSecond: 300, idleMsPerSecond: 100 });
  const job = {
    id: FORGED_ID,
    name: XSS,
    state: "failed",
    autostop: true,
    platform: "distributed",
    submittedAt: new Date(t0 + 100 * 60_000).toISOString(),
    startedAt: new Date(t0 + 100 * 60_000).toISOString(),
    endedAt: new Date(t0 + 101 * 60_000).toISOString(),
    runtimeMs: XSS,
    restartCount: 0,
    tasks: XSS,
    services: 0,
    isRunning: false,
    error: { message: XSS, operator: XSS, stack: XSS },
    operators: [
      { name: "Source", kind: "batch", parallelism: 1, recordsIn: 0, recordsOut: 10, errors: 0 },
      { name: XSS, kind: XSS, parallelism: XSS, recordsIn: 10, recordsOut: XSS, errors: 3, backPressuredMsPerSecond: 600, instances: [instance(0), instance(1)] },
    ],
    edges: [{ from: "Source", to: XSS, partition: XSS }],
    serviceDetails: [{ name: XSS, state: XSS, remote: true, worker: XSS, calls: 2, metrics: { [XSS]: 7, promptTokens: 120 } }],
  };
  const others = Array.from({ length: 40 }, (_, i) => ({ ...job, id: `0000${String(i).padStart(4, "0")}-0000-4000-8000-000000000000`, name: `job-${i}`, state: "finished", error: undefined, submittedAt: new Date(t0 + i * 60_000).toISOString() }));
  const history = { intervalMs: 2000, t: [t0, t0 + 2000, t0 + 4000], operators: [{ name: XSS, recordsInPerSecond: [1, 2, 3], recordsOutPerSecond: [1, 2, 3], backlog: [0, 1, 0], busyMsPerSecond: [1, 2, 3], backPressuredMsPerSecond: [0, 0, 0] }], services: [{ name: XSS, callsPerSecond: [1, 1, 1], latencyP50Ms: [1, 2, 3], latencyP99Ms: [2, 3, 4] }] };
  const info = {
    version: XSS,
    uptimeMs: 5000,
    host: "127.0.0.1",
    port: 1,
    pid: 1,
    jobs: { created: 0, running: 0, finishing: 0, finished: 40, stopped: 0, failed: 1 },
    processes: [],
    cluster: { url: XSS, connected: false, workers: [{ name: XSS, host: "a", slots: 4, used: 1, jobs: [], lastBeatMs: 10 }, { name: "w2", host: "b", slots: 2, used: 0, jobs: [FORGED_ID], lastBeatMs: 20 }] },
  };
  return (path) => {
    if (path === "/api/info") return info;
    if (path === "/api/jobs") return [...others, job];
    if (path === `/api/jobs/${FORGED_ID}`) return job;
    if (path === `/api/jobs/${FORGED_ID}/logs`) return { lines: [XSS, "plain line"], next: 2 };
    if (path === `/api/jobs/${FORGED_ID}/history`) return history;
    return undefined;
  };
}

// The pids of processes whose command line names `dir` (the browser's profile): none may outlive the test.
function processesUsing(dir: string): number[] {
  if (!existsSync("/proc")) return [];
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(dir)) pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

const QUICK_JOB = `import { LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
const env = new LocalEnvironment("quick", { logLevel: "warn" });
env.fromBatch([1, 2, 3], { name: "Numbers" }).sink(() => {}, { name: "Sink" });
await env.submit({ autostop: true });
`;

// Runs until stopped: a tick every 10 ms through a map of parallelism 2.
const ENDLESS_JOB = `import { LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
const env = new LocalEnvironment("ticks", { logLevel: "warn", metricsIntervalMs: 250 });
env
  .fromSource(async function* () {
    for (let i = 0; ; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      yield i;
    }
  }, { name: "Ticks" })
  .map((i: number) => i * 2, { name: "Double", parallelism: 2 })
  .sink((i: number) => { if (i % 50 === 0) console.log(\`tick \${i}\`); }, { name: "Print" });
await env.submit({ autostop: true });
`;

// Three records, then done, keeping a service that counts its ticks until it is released.
const KEPT_JOB = `import { BaseService, LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
${TICKER_SERVICE}
const env = new LocalEnvironment("kept", { logLevel: "warn" });
env.registerService("ticker", Ticker);
env.fromBatch([1, 2, 3]).sink(() => {});
await env.submit({ autostop: true, keepServices: true });
`;

// About two seconds of calls to a service that counts tokens, then done.
const SERVICE_JOB = `import { BaseService, LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
class FakeLlm extends BaseService {
  #tokens = 0;
  async chat(prompt: string): Promise<string> {
    this.#tokens += prompt.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return prompt.toUpperCase();
  }
  metrics() {
    return { promptTokens: this.#tokens, cacheHits: 0 };
  }
}
const env = new LocalEnvironment("rag", { logLevel: "warn", metricsIntervalMs: 200 });
env.registerService("llm", FakeLlm);
let answered = 0;
env.fromBatch(Array.from({ length: 40 }, (_, i) => "question " + i), { name: "Questions" })
  .map(async (q: string, ctx) => ctx.service<FakeLlm>("llm").chat(q), { name: "Ask" })
  .sink(() => { answered++; if (answered % 10 === 0) console.log("answered " + answered); }, { name: "Collect" });
await env.submit({ autostop: true });
`;
