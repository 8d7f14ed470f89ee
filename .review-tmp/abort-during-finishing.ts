import { LocalEnvironment, BaseService } from "../src/index.js";
let cleaned = false;
class Slow extends BaseService {
  async cleanup() { await new Promise((r) => setTimeout(r, 300)); cleaned = true; }
}
const env = new LocalEnvironment("f", { logLevel: "error" } as any);
env.registerService("slow", Slow);
env.fromBatch([1, 2, 3]).sink(() => {});
const job = await env.submit();
while ((await job.status()).state !== "finishing") await new Promise((r) => setImmediate(r));
const stopped = await job.stop({ mode: "abort" } as any);
console.log("stop(abort) ->", stopped.state, "services:", stopped.services, "cleanup finished yet?", cleaned);
await new Promise((r) => setTimeout(r, 500));
const later = await job.status();
console.log("500ms later:", later.state, "endedAt changed:", later.endedAt !== stopped.endedAt, "cleaned", cleaned);
