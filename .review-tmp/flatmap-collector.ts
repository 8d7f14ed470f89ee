import { LocalEnvironment, FlatMapFunction, type Collector } from "../src/index.js";
class Split extends FlatMapFunction<number, number> {
  async execute(x: number, c: Collector<number>) {
    await new Promise((r) => setTimeout(r, 1));
    c.collect(x * 10);
    c.collect(x * 10 + 1);
  }
}
const env = new LocalEnvironment("fm", { logLevel: "error" } as any);
const out: number[] = [];
env.fromBatch([1, 2, 3, 4]).flatMap(Split).sink((x) => void out.push(x));
await env.submit({ autostop: true });
console.log("got", out, "expected 8 records");
