import { LocalEnvironment, BaseService } from "../src/index.js";
class Slow extends BaseService {
  async cleanup() { await new Promise((r) => setTimeout(r, 300)); }
  ping() { return 1; }
}
const env = new LocalEnvironment("f", { logLevel: "error" } as any);
env.registerService("slow", Slow);
env.fromBatch([1, 2, 3]).sink(() => {});
const job = await env.submit();
const states: string[] = [];
(async () => { for await (const e of job.events()) if (e.type === "state") states.push(e.state); })();
// Wait until the job is finishing (cleanup in progress), then stop it.
while ((await job.status()).state !== "finishing") await new Promise((r) => setImmediate(r));
const t0 = Date.now();
const stopped = await job.stop();
console.log("stop() ->", stopped.state, "services", stopped.services, "after", Date.now() - t0, "ms (job ended by itself)");
console.log("events:", states);
const started = Date.now();
process.on("exit", () => console.log("process exit after", Date.now() - started, "ms; final state", (job as any).snapshot().state));
