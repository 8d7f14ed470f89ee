import { LocalEnvironment, BaseService } from "../src/index.js";
class Slow extends BaseService { async work() { await new Promise((r) => setTimeout(r, 300)); return "late"; } }
const env = new LocalEnvironment("t", { logLevel: "silent" } as any);
env.registerService("slow", Slow, { callTimeoutMs: 50 });
const results: unknown[] = [];
env.fromBatch([1]).map(async (_x, ctx) => { try { return await ctx.service<Slow>("slow").work(); } catch (e) { return (e as Error).name; } }).sink((r) => void results.push(r));
await env.submit({ autostop: true });
console.log("registered with callTimeoutMs: 50; a 300 ms call gave:", results);
