import { InvalidArgumentError, type Command } from "commander";
import { messageOf } from "../api/errors.js";
import type { ClusterAddress } from "../cluster/connect.js";
import type { ListedWorker } from "../cluster/worker-registry.js";
import { DEFAULT_BEAT_MS, DEFAULT_LEASE_MS } from "../cluster/worker-timing.js";
import { CLIError } from "./cli-error.js";
import { formatDuration } from "./format.js";
import { keepingAlive } from "./keep-alive.js";
import { printable } from "./safe-text.js";
import { logFormatOption } from "./cli-options.js";
import { failingAsJson } from "./json-failure.js";
import type { LogFormat } from "../api/log-format.js";

type Raw = Record<string, unknown>;

/** Adds `sage worker start|list`; each reports its exit code through `exit`. */
export function registerWorkerCommand(program: Command, exit: (code: number) => void): void {
  const worker = program.command("worker").description("run a cluster worker that hosts the remote parts of distributed jobs");
  const withCluster = (command: Command) =>
    command
      .option("--cluster <url>", "the cluster's NATS URL, user:password@ or token@ allowed (default: $SAGE_CLUSTER)")
      .option("--creds <file>", "a NATS credentials (.creds) file");

  const start = withCluster(worker.command("start").description("join the cluster and host job parts until Ctrl-C or SIGTERM (foreground)"))
    .option("--name <name>", "the worker's name, unique in the cluster (default: <hostname>-<pid>)")
    .option("--slots <n>", "instances it takes at once (default: the number of CPUs)", positiveInteger)
    .option("--lease-ms <ms>", `counted dead after this long without a heartbeat, more than the ${DEFAULT_BEAT_MS} ms between beats (default: ${DEFAULT_LEASE_MS})`, leaseMs)
    .addOption(logFormatOption());
  start.action(async () => {
    const raw = start.opts<Raw>();
    // NATS and the worker load when a worker starts: `sage run` and `sage job` do not pay for them.
    const { runWorkerUntilSignal } = await import("../cluster/worker-foreground.js");
    const run = () =>
      joining(() =>
        runWorkerUntilSignal(
          {
            cluster: clusterAddress(raw),
            name: raw.name as string | undefined,
            slots: raw.slots as number | undefined,
            leaseMs: raw.leaseMs as number | undefined,
            logFormat: raw.logFormat as LogFormat | undefined,
          },
          // A worker of an embedded cluster shares its driver's terminal: only its jobs' output goes there.
          process.env.SAGE_EMBEDDED_WORKER === "1" ? () => {} : undefined,
        ),
      );
    // A worker that logs JSON says why it could not join in JSON too.
    exit(await keepingAlive(() => (raw.logFormat === "json" ? failingAsJson("worker", run) : run())));
  });

  const list = withCluster(worker.command("list").description("list the live workers: name, host, pid, slots used/total, jobs, last beat")).option("--json", "print JSON");
  list.action(async () => {
    const raw = list.opts<Raw>();
    exit(await keepingAlive(() => joining(() => listCommand(clusterAddress(raw), raw.json === true))));
  });
}

/** `sage worker list`: prints the live workers; answers the exit code. */
export async function listCommand(address: ClusterAddress, json: boolean, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const [{ connectCluster }, { listWorkers }] = await Promise.all([import("../cluster/connect.js"), import("../cluster/worker-registry.js")]);
  const nc = await connectCluster(address, { name: "sage worker list" });
  let workers: ListedWorker[];
  try {
    workers = await listWorkers(nc);
  } finally {
    await nc.close().catch(() => undefined);
  }
  if (json) {
    out.write(`${JSON.stringify(workers, null, 2)}\n`);
    return 0;
  }
  if (workers.length === 0) {
    out.write("no workers\n");
    return 0;
  }
  const rows = [
    ["NAME", "HOST", "PID", "SLOTS", "JOBS", "LAST BEAT"],
    ...workers.map((w) => [printable(w.name), printable(w.hostname), String(w.pid), `${w.used}/${w.slots}`, w.jobs.length === 0 ? "-" : w.jobs.map(printable).join(","), `${formatDuration(w.ageMs)} ago`]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) out.write(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()}\n`);
  return 0;
}

// --- internal ---

function clusterAddress(raw: Raw): ClusterAddress {
  const url = (raw.cluster as string | undefined) || process.env.SAGE_CLUSTER;
  if (!url) throw new CLIError("no cluster given: pass --cluster nats://host:4222 or set SAGE_CLUSTER", "E_NO_CLUSTER");
  const creds = raw.creds as string | undefined;
  return { url, ...(creds && { creds }) };
}

// Connecting fails for reasons outside the user's command line too: a clear line, exit code 1.
async function joining(run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CLIError) throw error;
    const { WorkerNameTakenError } = await import("../cluster/worker-registry.js");
    if (error instanceof WorkerNameTakenError) throw new CLIError(error.message, "E_WORKER_NAME_TAKEN", 1);
    throw new CLIError(messageOf(error), "E_CLUSTER", 1);
  }
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1.");
  return n;
}

function leaseMs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= DEFAULT_BEAT_MS) throw new InvalidArgumentError(`expected a whole number of milliseconds above the heartbeat interval (${DEFAULT_BEAT_MS}).`);
  return n;
}
