import { appendFileSync } from "node:fs";
import { LocalEnvironment, BaseService } from "../src/index.js";
const mark = (s: string) => appendFileSync(process.env.MARK_FILE!, `${Date.now()} ${s}\n`);
class Slow extends BaseService {
  async setup() { await new Promise((r) => setTimeout(r, 1500)); mark("setup done"); }
  cleanup() { mark("cleanup"); }
}
const env = new LocalEnvironment("slow-setup", { logLevel: "silent" });
env.registerService("slow", Slow);
env.fromSource(async function* () { for (;;) { await new Promise((r) => setTimeout(r, 50)); yield 1; } }).sink(() => {});
await env.submit();
