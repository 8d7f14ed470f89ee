import { spawn } from "node:child_process";
import { startNatsServer } from "../../src/cluster/nats-server-process.js";
const broker = await startNatsServer();
const workers = [1, 2].map((i) => spawn(process.execPath, ["bin/sage.js", "worker", "start", "--cluster", broker.url, "--name", `bw${i}`, "--slots", "4"], { stdio: ["ignore", "ignore", "inherit"] }));
await new Promise((r) => setTimeout(r, 1500));
for (let i = 0; i < Number(process.env.N ?? 3); i++) {
  const out = await new Promise<string>((resolve) => {
    const c = spawn(process.execPath, ["--import", "tsx", process.env.JOB ?? "bench/distributed/autostop-job.ts"], { env: { ...process.env, SAGE_CLUSTER: broker.url }, stdio: ["ignore", "pipe", "inherit"] });
    let s = ""; c.stdout.on("data", (d) => (s += d)); c.on("exit", () => resolve(s));
  });
  console.log(out.trim());
}
for (const w of workers) w.kill("SIGTERM");
await new Promise((r) => setTimeout(r, 1500));
await broker.stop();
