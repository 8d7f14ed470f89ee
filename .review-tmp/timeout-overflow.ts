import { LocalEnvironment } from "../src/index.js";
const env = new LocalEnvironment("t", { logLevel: "silent" } as any);
env.fromBatch([1, 2, 3]).map(async (x) => { await new Promise((r) => setTimeout(r, 100)); return x; }).sink(() => {});
const t0 = Date.now();
try { await env.submit({ autostop: true, timeoutMs: 30 * 24 * 3600 * 1000 }); console.log("ok"); }
catch (e) { console.log((e as Error).name, "after", Date.now() - t0, "ms, with timeoutMs = 30 days:", (e as Error).message); }
