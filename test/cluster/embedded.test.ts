/**
 * The embedded local cluster: a job with remote parts and no cluster configured starts nats-server
 * and workers of its own, and nothing of them outlives the job, nor a driver killed with SIGKILL.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runDriver } from "../support/cluster.js";

/** Pids of processes descending from `root` (by parent links) or whose command line names `needle`. */
function processesOf(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone
    }
  }
  const found = new Set<number>([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) if (!found.has(pid) && found.has(ppid)) (found.add(pid), (grew = true));
  }
  found.delete(root);
  return [...found];
}

// A broker's store directory (its -sd argument) and a job host's directory (SAGE_JOB_DIR).
function keptDirs(pid: number): string[] {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const environment = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    const store = args.includes("-sd") ? [args[args.indexOf("-sd") + 1]!] : [];
    const jobDir = environment.find((entry) => entry.startsWith("SAGE_JOB_DIR="))?.slice("SAGE_JOB_DIR=".length);
    return [...store, ...(jobDir ? [jobDir] : [])];
  } catch {
    return []; // gone meanwhile
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe("embedded local cluster", () => {
  it("starts a broker and workers for a job with remote parts, and the process exits by itself after autostop", async () => {
    const run = await runDriver("embedded-job.ts", {}, 60_000);
    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
    expect(status).toMatchObject({ state: "finished", platform: "distributed", tasks: 0, services: 0 });
    expect(status.operators.find((o: { kind: string }) => o.kind === "map")).toMatchObject({ recordsIn: 50, recordsOut: 50 });
    expect(status.serviceDetails[0]).toMatchObject({ name: "echo", remote: true, state: "stopped", calls: 50, worker: expect.stringMatching(/^local-[12]$/) });
  });

  it("says what to install when there is no nats-server", async () => {
    const run = await runDriver("embedded-job.ts", { NATS_SERVER_BIN: "/nonexistent/nats-server" }, 30_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/NATS_SERVER_BIN is \/nonexistent\/nats-server, which is not an executable nats-server/);
  });

  it("leaves nothing running when the driver is killed with SIGKILL mid-job", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", new URL("./fixtures/embedded-job.ts", import.meta.url).pathname], {
      env: { ...process.env, HANG: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    // Wait until the cluster is up and the job runs: the driver has a broker and workers below it.
    const started = await until(() => processesOf(child.pid!).some((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("nats-server")) && processesOf(child.pid!).length >= 4, 20_000);
    expect(started, stderr).toBe(true);
    // What they keep on disk for this driver alone: the broker's store and the job hosts' directories
    // (waited for: under a loaded suite the hosts may start seconds after the workers).
    let descendants: number[] = [];
    let dirs: string[] = [];
    const hosted = await until(() => {
      descendants = processesOf(child.pid!);
      dirs = descendants.flatMap((pid) => keptDirs(pid));
      return dirs.some((dir) => /sage-nats-/.test(dir)) && dirs.some((dir) => /sage-job-/.test(dir));
    }, 20_000);
    expect(hosted, dirs.join(", ")).toBe(true);
    child.kill("SIGKILL");
    const cleared = await until(() => descendants.every((pid) => !alive(pid)), 15_000);
    expect(cleared, `left: ${descendants.filter(alive).join(", ")}`).toBe(true);
    // Regression (this once failed): the broker's store and a host's (empty) directory stayed in the temp dir.
    const removed = await until(() => dirs.every((dir) => !existsSync(dir)), 5_000);
    expect(removed, `left: ${dirs.filter((dir) => existsSync(dir)).join(", ")}`).toBe(true);
  });
});
