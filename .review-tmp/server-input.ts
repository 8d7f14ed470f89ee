import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startJobManagerServer } from "../src/jobmanager/server.js";
import { bundleEntry } from "../src/jobmanager/bundle.js";
import { JobManagerClient } from "../src/index.js";
import { createLogger } from "../src/api/logger.js";
const dataDir = mkdtempSync(join(tmpdir(), "rv-"));
const logs: string[] = [];
const logger = { debug() {}, info() {}, warn: (m: string) => logs.push(m), error: (...a: unknown[]) => logs.push(String(a[0]) + " " + String(a[3]).split("\n")[0]) };
const server = await startJobManagerServer({ port: 0, dataDir, token: "t0k3n", version: "x", logger: logger as any, maxBodyBytes: 1024 });
const base = `http://127.0.0.1:${server.port}`;
const auth = { authorization: "Bearer t0k3n" };
const client = new JobManagerClient({ port: server.port, token: "t0k3n" });

// 1. graceMs is not validated: a string turns into a 1 ms kill timer.
const mark = join(dataDir, "marks.txt");
// bundle is bigger than 1 KiB, so use a second server for the job part
const server2 = await startJobManagerServer({ port: 0, dataDir: mkdtempSync(join(tmpdir(), "rv-")), token: "t0k3n", version: "x", logger: createLogger("jm", "silent") });
const client2 = new JobManagerClient({ port: server2.port, token: "t0k3n" });
const code = await bundleEntry(new URL("./job-cleanup-mark.ts", import.meta.url).pathname);
const job = await client2.submitJob({ code, options: { env: { MARK_FILE: mark } } });
await client2.waitForJob(job.id, { until: (s) => s.state === "running" });
const r = await fetch(`http://127.0.0.1:${server2.port}/api/jobs/${job.id}/stop`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ graceMs: "soon" }) });
const st = await r.json();
console.log("1. stop {graceMs:'soon'} ->", r.status, st.state, st.error?.message ?? "", "| marks:", existsSync(mark) ? readFileSync(mark, "utf8").trim().split("\n") : []);
console.log("   job log:", (await client2.logs(job.id)).lines);
await server2.close();

// 2. malformed percent-encoding -> 500 internal error instead of 400/404
const r2 = await fetch(`${base}/api/jobs/%E0%A4%A`, { headers: auth });
console.log("2. GET /api/jobs/%E0%A4%A ->", r2.status, await r2.text());

// 3. body over the limit without content-length (chunked): what does the client see?
const res3 = await new Promise<string>((resolve) => {
  const req = httpRequest(`${base}/api/jobs`, { method: "POST", headers: { ...auth, "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
    let t = ""; res.on("data", (d) => (t += d)); res.on("end", () => resolve(`${res.statusCode} ${t}`));
  });
  req.on("error", (e) => resolve(`client error: ${e.message}`));
  req.write("x".repeat(800)); setTimeout(() => { req.write("x".repeat(800)); setTimeout(() => req.end("y".repeat(100000)), 50); }, 50);
});
console.log("3. chunked body over the limit ->", res3.slice(0, 200));
console.log("server logged:", logs);
await server.close();
