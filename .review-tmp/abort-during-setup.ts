// A stop({mode:"abort"}) that arrives while services are still being set up (remote mode: the
// job process listens for "stop" before job.start() resolves) -> the job is reported "stopped",
// then start() carries on: later services are set up and never cleaned, state flips to "running",
// and the keep-alive interval is never cleared, so the process never exits.
import { LocalEnvironment, BaseService } from "../src/index.js";
import { JobController } from "../src/runtime/job-controller.js";
import { compile } from "../src/graph/compile.js";
const log: string[] = [];
class A extends BaseService { async setup() { await new Promise((r) => setTimeout(r, 200)); log.push("A setup"); } cleanup() { log.push("A cleanup"); } }
class B extends BaseService { setup() { log.push("B setup"); } cleanup() { log.push("B cleanup"); } }
const env = new LocalEnvironment("s", { logLevel: "silent" } as any);
env.registerService("a", A);
env.registerService("b", B);
env.fromSource(async function* () { for (;;) { await new Promise((r) => setTimeout(r, 50)); yield 1; } }).sink(() => {});
const job = new JobController(env, compile(env), {});
const started = job.start();
await new Promise((r) => setTimeout(r, 50));
const stopped = await job.stop({ mode: "abort" });
console.log("stop() resolved:", stopped.state, "services", stopped.services);
await started;
await new Promise((r) => setTimeout(r, 300));
const now = job.snapshot();
console.log("300 ms later: state", now.state, "services", now.services, "isRunning", now.isRunning, "log", log);
const t0 = Date.now();
process.on("exit", () => console.log("exit after", Date.now() - t0));
setTimeout(() => { console.log("still alive after 3 s (keepAlive interval leaked)"); process.exit(0); }, 3000).unref();
