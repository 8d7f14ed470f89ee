import type { JobStatus } from "../api/types.js";
import { formatDuration, jobHeadline, operatorLines } from "./format.js";
import { displayWidth, fitWidth } from "./live-block.js";
import { printable } from "./safe-text.js";

/** Widest a name gets in the list (`sage job show` prints it whole). */
const NAME_COLUMN = 40;

/** `sage job list`: one row per job (short ids are valid prefixes), or `no jobs`. */
export function jobTable(jobs: readonly JobStatus[]): string {
  if (jobs.length === 0) return "no jobs\n";
  const rows = [
    ["ID", "NAME", "STATE", "RUNTIME", "SUBMITTED"],
    ...jobs.map((job) => [job.id.slice(0, 8), fitWidth(printable(job.name), NAME_COLUMN), printable(job.state), formatDuration(job.runtimeMs), localTime(job.submittedAt)]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => displayWidth(row[column]!))));
  return rows.map((row) => row.map((cell, column) => cell + " ".repeat(widths[column]! - displayWidth(cell))).join("  ").trimEnd()).join("\n") + "\n";
}

/** `sage job show`: the headline, the status fields, operators and services. */
export function jobDetails(job: JobStatus): string {
  const fields: Array<[string, string | number | undefined]> = [
    ["id", job.id],
    ["name", job.name],
    ["state", job.state],
    ["platform", job.platform],
    ["autostop", String(job.autostop)],
    ["submitted", localTime(job.submittedAt)],
    ["started", job.startedAt && localTime(job.startedAt)],
    ["ended", job.endedAt && localTime(job.endedAt)],
    ["runtime", formatDuration(job.runtimeMs)],
    ["tasks", job.tasks],
    ["services", job.services],
    ["restarts", job.restartCount],
    ["error", job.error?.message],
    ["operator", job.error?.operator],
  ];
  const lines = [jobHeadline(job)];
  for (const [label, value] of fields) if (value !== undefined) lines.push(`  ${label.padEnd(10)} ${printable(String(value))}`);
  if (job.operators.length > 0) lines.push("operators:", ...withWorkers(operatorLines(job), job.operators.map((op) => op.workers)).map((line) => `  ${line}`));
  if (job.serviceDetails?.length) {
    const services = job.serviceDetails.map((s) => `${printable(s.name).padEnd(12)} ${printable(s.state).padEnd(8)} calls ${s.calls}${s.remote && !s.worker ? " (remote)" : ""}`);
    const rows = withWorkers(services, job.serviceDetails.map((s) => (s.worker ? [s.worker] : undefined)));
    lines.push("services:", ...rows.flatMap((line, i) => [`  ${line}`, ...metricLines(job.serviceDetails![i]!.metrics).map((m) => `    ${m}`)]));
  }
  return `${lines.join("\n")}\n`;
}

/** Widest a line of a service's metrics gets before it wraps. */
const METRICS_WIDTH = 96;

// A service's counters as `name value` pairs, in the order it published them, wrapped.
function metricLines(metrics: Record<string, number> | undefined): string[] {
  const lines: string[] = [];
  let line = "";
  for (const [name, value] of Object.entries(metrics ?? {})) {
    const pair = `${printable(name)} ${metricValue(value)}`;
    if (line !== "" && displayWidth(line) + 2 + displayWidth(pair) > METRICS_WIDTH) {
      lines.push(line);
      line = "";
    }
    line = line === "" ? pair : `${line}  ${pair}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

// Whole numbers as they are; fractions to 6 significant digits (0.1 + 0.2 reads 0.3).
function metricValue(value: number): string {
  return typeof value !== "number" ? printable(String(value)) : Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

// Each line followed by `on w1, w2` where its workers are known (distributed mode), in one column.
function withWorkers(lines: string[], workers: Array<string[] | undefined>): string[] {
  if (!workers.some((w) => w?.length)) return lines;
  const width = Math.max(...lines.map(displayWidth));
  return lines.map((line, i) => {
    const on = workers[i];
    return on?.length ? `${line}${" ".repeat(width - displayWidth(line))}  on ${on.map(printable).join(", ")}` : line;
  });
}

// ISO-8601 as local `YYYY-MM-DD HH:MM:SS`, the way people read times in a table.
function localTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return printable(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
