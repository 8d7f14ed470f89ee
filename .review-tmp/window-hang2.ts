import { LocalEnvironment } from "../src/index.js";
const later = <T>(v: T, ms: number) => new Promise<T>((r) => setTimeout(() => r(v), ms));
const env = new LocalEnvironment("h", { logLevel: "error", batchSize: 3 } as any);
const seen: number[] = [];
env
  .fromBatch([0, 1, 2, 3, 4, 5])
  .map((x: number) => (x === 0 || x === 1 || x === 4 ? later(x, 5) : x))
  .sink((x: number) => { seen.push(x); return x === 2 ? later(undefined, 20) : undefined; });
const job = await env.submit({ autostop: true });
const st = await job.status();
console.log("submit resolved: state", st.state, "tasks", st.tasks, "sink saw", seen, JSON.stringify(st.operators));
setTimeout(() => console.log("2s later sink saw", seen), 2000).unref();
