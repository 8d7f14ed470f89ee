import { LocalEnvironment } from "../src/index.js";
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const maybeAsync = <T>(v: T, p: number): T | Promise<T> => (rnd() < p ? new Promise((r) => setTimeout(() => r(v), Math.floor(rnd() * 3))) : v);
for (let trial = 0; trial < 30; trial++) {
  const conc = 1 + (trial % 4);
  const p = [0.01, 0.1, 0.5][trial % 3]!;
  const N = 3000;
  const env = new LocalEnvironment("o" + trial, { logLevel: "error", batchSize: 64 } as any);
  const out: number[] = [];
  const src = Array.from({ length: N }, (_, i) => i);
  env.fromBatch(src)
    .map((x: number) => maybeAsync(x * 2, p), { concurrency: conc })
    .filter((x: number) => maybeAsync(x % 3 !== 0, p), { concurrency: conc })
    .map((x: number) => maybeAsync(x + 1, p))
    .sink((x: number) => { out.push(x); return maybeAsync(undefined, p / 2) as any; });
  console.log("trial", trial, conc, p); await env.submit({ autostop: true });
  const expected = src.map((x) => x * 2).filter((x) => x % 3 !== 0).map((x) => x + 1);
  const ok = out.length === expected.length && out.every((v, i) => v === expected[i]);
  if (!ok) {
    let i = 0; while (out[i] === expected[i]) i++;
    console.log("trial", trial, "conc", conc, "p", p, "MISMATCH len", out.length, expected.length, "first diff at", i, out.slice(i, i + 5), expected.slice(i, i + 5));
  }
}
console.log("done");
