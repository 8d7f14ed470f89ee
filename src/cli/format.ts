import type { JobStatus } from "../api/types.js";
import { displayWidth, fitWidth } from "./live-block.js";
import { printable } from "./safe-text.js";

/** `1234567` -> `1,234,567`. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Milliseconds as `850ms`, `12.3s` or `4m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}

/** Widest the operator name column gets when no width is given, so that one long name does not push every count far right. */
const NAME_COLUMN = 40;

/**
 * One line per operator: name, kind, parallelism, records in/out, errors, and while it runs its
 * rate (records out per second, a sink's in) and how busy or backpressured it is, as the status says.
 * Given `width` (the columns a line may take), long names are cut first, so the counts stay visible.
 */
export function operatorLines(status: JobStatus, width?: number): string[] {
  const running = status.isRunning;
  const rows = status.operators.map((op) => {
    const rate = running ? (op.kind === "sink" ? op.recordsInPerSecond : op.recordsOutPerSecond) : undefined;
    const busy = running ? (op.busyMsPerSecond ?? 0) : 0;
    const backPressured = running ? (op.backPressuredMsPerSecond ?? 0) : 0;
    const rest = [
      `${op.kind}${op.parallelism > 1 ? `×${op.parallelism}` : ""}`.padEnd(10),
      op.kind === "batch" || op.kind === "source" ? "".padEnd(14) : `in ${formatCount(op.recordsIn)}`.padEnd(14),
      op.kind === "sink" ? "".padEnd(15) : `out ${formatCount(op.recordsOut)}`.padEnd(15),
      op.errors > 0 ? `errors ${op.errors}` : "",
      [
        rate !== undefined && rate > 0 ? `${formatCount(Math.round(rate))}/s` : "",
        // Flink's thresholds: a task busy half the time or more, or held back a tenth of it, is worth a look.
        busy >= 500 ? `busy ${Math.round(busy / 10)}%` : "",
        backPressured >= 100 ? `backpressured ${Math.round(backPressured / 10)}%` : "",
      ]
        .filter((cell) => cell !== "")
        .join(" "),
    ];
    return { name: printable(op.name), rest };
  });
  // Without a width (plain lines, `sage job show`), one long name must not push every row's counts far right.
  const widest = Math.min(width === undefined ? NAME_COLUMN : Infinity, Math.max(8, ...rows.map((row) => displayWidth(row.name))));
  const restWidth = (compact: boolean) => Math.max(0, ...rows.map((row) => cellsOf(row.rest, compact).join(" ").trimEnd().length));
  // Names give way first (down to 8 columns), then the padding between the counts.
  const compact = width !== undefined && widest + 1 + restWidth(false) > width && 8 + 1 + restWidth(false) > width;
  const nameWidth = width === undefined ? widest : Math.min(widest, Math.max(8, width - 1 - restWidth(compact)));
  return rows.map(({ name, rest }) => [padColumns(fitWidth(name, nameWidth), nameWidth), ...cellsOf(rest, compact)].join(" ").trimEnd());
}

// The cells after the name; compact ones drop their padding and the empty ones.
function cellsOf(rest: string[], compact: boolean): string[] {
  return compact ? rest.map((cell) => cell.trim()).filter((cell) => cell !== "") : rest;
}

// `text` padded with spaces to `width` terminal columns.
function padColumns(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - displayWidth(text)));
}

/** `job hello (1a2b3c4d) finished in 1.2s`; a failure's message follows unless `withError` is false (it is printed elsewhere). */
export function jobHeadline(status: JobStatus, withError = true): string {
  const tail = withError && status.state === "failed" && status.error ? `: ${status.error.operator ? `${printable(status.error.operator)}: ` : ""}${printable(status.error.message)}` : "";
  return `job ${printable(status.name)} (${status.id.slice(0, 8)}) ${status.state}${status.runtimeMs ? ` in ${formatDuration(status.runtimeMs)}` : ""}${tail}`;
}

/** Where a distributed job's remote parts ran (`remote: Embed on w1, w2; service vectors on w2`), or undefined for a job with none. */
export function placementLine(status: JobStatus): string | undefined {
  const parts = [
    ...status.operators.filter((op) => op.workers?.length).map((op) => `${printable(op.name)} on ${op.workers!.map(printable).join(", ")}`),
    ...(status.serviceDetails ?? []).filter((s) => s.worker !== undefined).map((s) => `service ${printable(s.name)} on ${printable(s.worker!)}`),
  ];
  return parts.length > 0 ? `remote: ${parts.join("; ")}` : undefined;
}
