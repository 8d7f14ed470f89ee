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
    lines.push("services:", ...withWorkers(services, job.serviceDetails.map((s) => (s.worker ? [s.worker] : undefined))).map((line) => `  ${line}`));
  }
  return `${lines.join("\n")}\n`;
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
