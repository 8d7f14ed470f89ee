// Two async-capable stages in one task (default concurrency 1), 6 records, batches of 3.
import { LocalEnvironment } from "../src/index.js";
const later = <T>(v: T, ms: number) => new Promise<T>((r) => setTimeout(() => r(v), ms));
const env = new LocalEnvironment("h", { logLevel: "error", batchSize: 3 } as any);
const seen: number[] = [];
env
  .fromBatch([0, 1, 2, 3, 4, 5])
  .map((x: number) => (x === 0 || x === 1 || x === 4 ? later(x, 5) : x))             // A: async for 0, 1, 4
  .sink((x: number) => { seen.push(x); return x === 2 ? later(undefined, 20) : undefined; }); // B: async for 2
const t = setTimeout(async () => { console.log("HANG; sink saw", seen, "status", (await env.stop().catch(e=>e)).state); process.exit(1); }, 3000);
await env.submit({ autostop: true });
clearTimeout(t);
console.log("finished", seen);
