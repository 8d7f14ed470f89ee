import type { JobState } from "../api/types.js";
import { messageOf } from "../api/errors.js";
import type { ClusterInfo } from "../jobmanager/cluster-link.js";
import { dataPaths, readToken } from "../jobmanager/paths.js";
import { addressOf, clientFor, dashboardUrl, type ServerOptions } from "./cli-options.js";
import { formatDuration } from "./format.js";
import { probeJobManager } from "./jobmanager-probe.js";
import { printable } from "./safe-text.js";

/** What `sage jobmanager status --json` prints. */
export interface JobManagerStatusReport {
  running: boolean;
  address: string;
  dataDir: string;
  pid?: number;
  version?: string;
  uptimeMs?: number;
  jobs?: Record<JobState, number>;
  /** The cluster jobs place their remote parts on, when the server has one. */
  cluster?: ClusterInfo;
  /** The dashboard's address (it carries no token). */
  dashboard?: string;
  /** The file holding the token the dashboard's login asks for, when it is on this machine. */
  tokenFile?: string;
  /** Why the details are missing (e.g. a wrong token), when the server answers health checks only. */
  note?: string;
}

/** `sage jobmanager status`: health, pid, version, uptime and job counts; resolves 1 when not running. */
export async function jobManagerStatus(options: ServerOptions, json: boolean, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const report = await collect(options);
  if (json) {
    out.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (!report.running) {
    const pid = report.pid === undefined ? "" : ` (pid ${report.pid} is alive but does not answer)`;
    out.write(`JobManager not running at ${report.address}${pid}\n`);
  } else {
    const rows: Array<[string, string | undefined]> = [
      ["pid", report.pid?.toString()],
      ["version", report.version],
      ["uptime", report.uptimeMs === undefined ? undefined : formatDuration(report.uptimeMs)],
      ["jobs", report.jobs && jobCounts(report.jobs)],
      ["cluster", report.cluster && clusterSummary(report.cluster)],
      ["dashboard", report.dashboard],
      ["token", report.tokenFile],
      ["data dir", report.dataDir],
      ["note", report.note],
    ];
    out.write(`JobManager running at http://${report.address}\n`);
    for (const [label, value] of rows) if (value !== undefined) out.write(`  ${label.padEnd(10)} ${value}\n`);
  }
  return report.running ? 0 : 1;
}

async function collect(options: ServerOptions): Promise<JobManagerStatusReport> {
  const probe = await probeJobManager(options);
  const base = { address: addressOf(options), dataDir: options.dataDir, ...(probe.pid !== undefined && { pid: probe.pid }) };
  if (!probe.healthy) return { running: false, ...base };
  try {
    const info = (await clientFor(options, undefined, 5000).info()) as { pid?: number; version?: string; uptimeMs?: number; jobs?: Record<JobState, number>; cluster?: ClusterInfo };
    const tokenFile = dataPaths(options.dataDir).token;
    return {
      running: true, ...base, pid: info.pid ?? probe.pid, version: info.version, uptimeMs: info.uptimeMs, jobs: info.jobs,
      ...(info.cluster && { cluster: info.cluster }),
      dashboard: dashboardUrl(options),
      ...(readToken(options.dataDir) !== undefined && { tokenFile }),
    };
  } catch (error) {
    return { running: true, ...base, version: probe.version, note: `details unavailable: ${messageOf(error)}` };
  }
}

/** `2 running, 5 finished` (states with no jobs left out), or `none`. */
export function jobCounts(jobs: Record<string, number>): string {
  const parts = Object.entries(jobs).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`);
  const total = Object.values(jobs).reduce((sum, n) => sum + n, 0);
  return parts.length === 0 ? "none" : `${parts.join(", ")} (${total} total)`;
}

/** `nats://10.0.0.5:4222, 2 workers: w1 1/4, w2 0/4` (slots used/total), `..., no workers`, or `... (disconnected)`. */
export function clusterSummary(cluster: ClusterInfo): string {
  const workers = Array.isArray(cluster.workers) ? cluster.workers : [];
  const listed = workers.length === 0 ? "no workers" : `${workers.length} worker${workers.length === 1 ? "" : "s"}: ${workers.map((w) => `${w.name} ${w.used}/${w.slots}`).join(", ")}`;
  return printable(`${cluster.url}${cluster.connected === false ? " (disconnected)" : ""}, ${listed}`);
}
