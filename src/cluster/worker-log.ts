import type { Logger as Pino } from "pino";
import { createJsonLog } from "../api/json-logger.js";
import type { LogFormat } from "../api/log-format.js";
import { logLine } from "../api/logger.js";
import { readHostLogLine } from "./host-log.js";
import type { OutputSink } from "./job-host-process.js";

/** The job a line is about. */
export interface JobRef {
  id: string;
  name: string;
}

/** A worker's own line's level: info goes to stdout, the others to stderr. */
export type SayLevel = "info" | "warn" | "error";

/**
 * Where a worker's lines go: text lines as they come (a host's with its `[job <id>] ` prefix), or
 * one pino JSON object a line with the worker, the job and, for what the job's code logged, its
 * operator or service as fields. Info and below go to stdout, warnings and errors to stderr.
 */
export class WorkerLog {
  readonly #output: OutputSink;
  readonly #json: Pino | undefined;

  constructor(format: LogFormat, output: OutputSink, worker: string) {
    this.#output = output;
    this.#json = format === "json" ? createJsonLog({ name: "worker", fields: { worker }, target: { out: (line) => output(line, "out"), err: (line) => output(line, "err") } }) : undefined;
  }

  /** Whether lines are written as JSON. */
  get json(): boolean {
    return this.#json !== undefined;
  }

  /** One of the worker's own lines. */
  say(message: string, level: SayLevel = "info", job?: JobRef): void {
    if (this.#json) this.#json[level](job ? { job: job.id, job_name: job.name } : {}, message);
    else this.#output(message, level === "info" ? "out" : "err");
  }

  /**
   * The sink of one job host's lines, each starting with `prefix`. It answers the line to forward
   * to the job's driver: text, whatever this worker writes, since the driver shows it to a person.
   */
  hostOutput(job: JobRef, prefix: string): (line: string, stream: "out" | "err") => string {
    const json = this.#json?.child({ job: job.id, job_name: job.name });
    return (line, stream) => {
      if (!json) {
        this.#output(line, stream);
        return line;
      }
      const text = line.startsWith(prefix) ? line.slice(prefix.length) : line;
      const record = stream === "err" ? readHostLogLine(text) : undefined;
      if (!record) {
        // Printed, not logged: its level is not known; what went to stderr counts as a warning.
        json[stream === "out" ? "info" : "warn"]({ stream: stream === "out" ? "stdout" : "stderr" }, text);
        return line;
      }
      json[record.level]({ logger: record.name, operator: record.operator, service: record.service }, record.message);
      return prefix + logLine(record.level, record.name, record.message);
    };
  }
}
