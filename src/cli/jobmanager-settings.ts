import { resolve } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { ClusterAddress } from "../cluster/connect.js";
import type { LogLimits } from "../jobmanager/job-log.js";
import { CLIError } from "./cli-error.js";
import { parseDuration, type Retention } from "../jobmanager/retention.js";
import type { LogFormat } from "../api/log-format.js";
import { logFormatOption } from "./cli-options.js";

/** What `sage jobmanager start` passes on to the server about logs, reports, retention and its cluster (unset: the server's defaults). */
export interface JobManagerSettings {
  logLimits: Partial<LogLimits>;
  /** How the server writes its own log (default text). */
  logFormat?: LogFormat;
  retention: Partial<Retention>;
  maxReportBytes?: number;
  /** The cluster jobs place their remote parts on (the creds path made absolute). */
  cluster?: ClusterAddress;
}

/** Adds --cluster, --cluster-creds, --log-format, --log-max-line-bytes, --log-max-bytes, --max-report-bytes, --max-jobs and --retention. */
export function addJobManagerSettings(command: Command): Command {
  return command
    .addOption(new Option("--cluster <url>", "NATS URL of the cluster jobs place their remote parts on, user:password@ or token@ allowed (default: $SAGE_CLUSTER)"))
    .addOption(new Option("--cluster-creds <file>", "a NATS credentials (.creds) file for --cluster (default: $SAGE_CLUSTER_CREDS)"))
    .addOption(logFormatOption())
    .addOption(new Option("--log-max-line-bytes <bytes>", "longest job log line kept; longer lines are cut with a marker (default 16384)").argParser(positiveInteger))
    .addOption(new Option("--log-max-bytes <bytes>", "bytes of each job's log kept; the oldest lines roll off (default 8388608)").argParser(positiveInteger))
    .addOption(new Option("--max-report-bytes <bytes>", "largest report a job process may send; larger ones are skipped and logged (default 4194304)").argParser(positiveInteger))
    .addOption(new Option("--max-jobs <count>", "ended jobs kept with their logs and bundles; the oldest are removed (default 1000)").argParser(positiveInteger))
    .addOption(new Option("--retention <duration>", "how long ended jobs are kept, e.g. 7d, 12h, 30m (default 7d)").argParser(duration));
}

/** Reads the settings commander parsed (see addJobManagerSettings); the cluster falls back to SAGE_CLUSTER and SAGE_CLUSTER_CREDS. */
export function jobManagerSettings(raw: Record<string, unknown>): JobManagerSettings {
  const cluster = clusterAddress(raw);
  return {
    logLimits: { maxLineBytes: raw.logMaxLineBytes as number | undefined, maxBytes: raw.logMaxBytes as number | undefined },
    retention: { maxJobs: raw.maxJobs as number | undefined, maxAgeMs: raw.retention as number | undefined },
    ...(raw.maxReportBytes !== undefined && { maxReportBytes: raw.maxReportBytes as number }),
    ...(raw.logFormat !== undefined && { logFormat: raw.logFormat as LogFormat }),
    ...(cluster && { cluster }),
  };
}

/**
 * The environment that gives a server started in the background the same cluster: a URL may carry
 * a password or token, and argv is visible to every user of the machine.
 */
export function settingsEnv(settings: JobManagerSettings): Record<string, string> {
  const { cluster } = settings;
  return cluster ? { SAGE_CLUSTER: cluster.url, SAGE_CLUSTER_CREDS: cluster.creds ?? "" } : { SAGE_CLUSTER: "", SAGE_CLUSTER_CREDS: "" };
}

/** The command-line arguments that give a server started in the background the same settings (the cluster goes by settingsEnv). */
export function settingsArgs(settings: JobManagerSettings): string[] {
  const args: Array<[string, string | number | undefined]> = [
    ["--log-format", settings.logFormat],
    ["--log-max-line-bytes", settings.logLimits.maxLineBytes],
    ["--log-max-bytes", settings.logLimits.maxBytes],
    ["--max-report-bytes", settings.maxReportBytes],
    ["--max-jobs", settings.retention.maxJobs],
    ["--retention", settings.retention.maxAgeMs],
  ];
  return args.flatMap(([flag, value]) => (value === undefined ? [] : [flag, flag === "--retention" ? `${value}ms` : String(value)]));
}

function clusterAddress(raw: Record<string, unknown>): ClusterAddress | undefined {
  const url = (raw.cluster as string | undefined) || process.env.SAGE_CLUSTER || undefined;
  const creds = (raw.clusterCreds as string | undefined) || process.env.SAGE_CLUSTER_CREDS || undefined;
  if (!url) {
    if (raw.clusterCreds) throw new CLIError("--cluster-creds needs --cluster (or SAGE_CLUSTER)", "E_NO_CLUSTER");
    return undefined;
  }
  // The server and its job processes need not run in this directory.
  return { url, ...(creds && { creds: resolve(creds) }) };
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError("expected a positive integer.");
  return number;
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
}
