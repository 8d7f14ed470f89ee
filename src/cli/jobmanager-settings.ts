import { InvalidArgumentError, Option, type Command } from "commander";
import type { LogLimits } from "../jobmanager/job-log.js";
import { parseDuration, type Retention } from "../jobmanager/retention.js";

/** What `sage jobmanager start` passes on to the server about logs, reports and retention (unset: the server's defaults). */
export interface JobManagerSettings {
  logLimits: Partial<LogLimits>;
  retention: Partial<Retention>;
  maxReportBytes?: number;
}

/** Adds --log-max-line-bytes, --log-max-bytes, --max-report-bytes, --max-jobs and --retention. */
export function addJobManagerSettings(command: Command): Command {
  return command
    .addOption(new Option("--log-max-line-bytes <bytes>", "longest job log line kept; longer lines are cut with a marker (default 16384)").argParser(positiveInteger))
    .addOption(new Option("--log-max-bytes <bytes>", "bytes of each job's log kept; the oldest lines roll off (default 8388608)").argParser(positiveInteger))
    .addOption(new Option("--max-report-bytes <bytes>", "largest report a job process may send; larger ones are skipped and logged (default 4194304)").argParser(positiveInteger))
    .addOption(new Option("--max-jobs <count>", "ended jobs kept with their logs and bundles; the oldest are removed (default 1000)").argParser(positiveInteger))
    .addOption(new Option("--retention <duration>", "how long ended jobs are kept, e.g. 7d, 12h, 30m (default 7d)").argParser(duration));
}

/** Reads the settings commander parsed (see addJobManagerSettings). */
export function jobManagerSettings(raw: Record<string, unknown>): JobManagerSettings {
  return {
    logLimits: { maxLineBytes: raw.logMaxLineBytes as number | undefined, maxBytes: raw.logMaxBytes as number | undefined },
    retention: { maxJobs: raw.maxJobs as number | undefined, maxAgeMs: raw.retention as number | undefined },
    ...(raw.maxReportBytes !== undefined && { maxReportBytes: raw.maxReportBytes as number }),
  };
}

/** The command-line arguments that give a server started in the background the same settings. */
export function settingsArgs(settings: JobManagerSettings): string[] {
  const args: Array<[string, number | undefined]> = [
    ["--log-max-line-bytes", settings.logLimits.maxLineBytes],
    ["--log-max-bytes", settings.logLimits.maxBytes],
    ["--max-report-bytes", settings.maxReportBytes],
    ["--max-jobs", settings.retention.maxJobs],
    ["--retention", settings.retention.maxAgeMs],
  ];
  return args.flatMap(([flag, value]) => (value === undefined ? [] : [flag, flag === "--retention" ? `${value}ms` : String(value)]));
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
