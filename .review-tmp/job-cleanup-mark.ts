import { appendFileSync } from "node:fs";
import { LocalEnvironment, BaseService } from "../src/index.js";
const mark = (s: string) => appendFileSync(process.env.MARK_FILE!, `${s}\n`);
class Svc extends BaseService {
  setup() { mark("setup"); }
  async cleanup() { await new Promise((r) => setTimeout(r, 100)); mark("cleanup"); }
}
const env = new LocalEnvironment("cleanup-mark", { logLevel: "silent" });
env.registerService("svc", Svc);
env.fromSource(async function* () { for (;;) { await new Promise((r) => setTimeout(r, 20)); yield 1; } }).sink(() => {});
await env.submit({ autostop: true });
