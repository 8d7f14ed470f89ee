import { LocalEnvironment } from "../src/index.js";
const env = new LocalEnvironment("n", { logLevel: "error", abortGraceMs: 200 } as any);
env.fromBatch([1, 2, 3]).map(() => new Promise((r) => setTimeout(() => r(1), 600))).sink(() => {});
const job = await env.submit();
await new Promise((r) => setTimeout(r, 50));
const st = await job.stop({ mode: "abort" } as any);
console.log("after abort:", st.state, "tasks", st.tasks);
await new Promise((r) => setTimeout(r, 1000));
console.log("later:", (await job.status()).tasks);
