import { LocalEnvironment, JobFailedError } from "../src/index.js";
async function run(label: string, build: (env: LocalEnvironment) => void) {
  const env = new LocalEnvironment("s", { logLevel: "silent" } as any);
  build(env);
  try { await env.submit({ autostop: true }); console.log(label, "no error?!"); }
  catch (e) { const st = (e as JobFailedError).status; console.log(label, "->", JSON.stringify({ message: st?.error?.message, operator: st?.error?.operator }), "errors counted:", st?.operators.map(o => `${o.name}:${o.errors}`).join(",")); }
}
await run("sync generator, fused", (env) => env.fromBatch(function* () { yield 1; throw new Error("boom"); }, { name: "mySource" }).map((x) => x).sink(() => {}));
await run("async generator", (env) => env.fromBatch(async function* () { yield 1; throw new Error("boom"); }, { name: "mySource" }).map((x) => x).sink(() => {}));
await run("sync generator, flatMap next", (env) => env.fromBatch(function* () { yield 1; throw new Error("boom"); }, { name: "mySource" }).flatMap((x) => [x]).sink(() => {}));
