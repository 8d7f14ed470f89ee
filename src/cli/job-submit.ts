import { existsSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { userFrames } from "../api/stack-frames.js";
import type { JobStatus } from "../api/types.js";
import { bundleEntry } from "../cluster/bundle.js";
import type { JobManagerClient } from "../jobmanager/client.js";
import { CLIENT_ENV_NAMES, clientEnvNames } from "../jobmanager/env-guard.js";
import { CLIError } from "./cli-error.js";
import { createJobDisplay } from "./job-display.js";
import { droppedNotice, followJob } from "./job-follow.js";
import { printable } from "./safe-text.js";

/** Exit code of a submit whose --timeout expired (as timeout(1) uses). */
export const EXIT_TIMEOUT = 124;

/** Options of `sage job submit`. */
export interface SubmitCommandOptions {
  name?: string;
  wait: boolean;
  timeoutMs?: number;
  json: boolean;
  /** Variables for the job process (`--env`, `--env-file`). */
  env?: Record<string, string>;
  /** The flags that reach this JobManager from another command (for the --no-wait hint). */
  serverFlags?: string;
  /** The token came from --token: the hint names the flag, never the token. */
  tokenFlag?: boolean;
}

/** Where submit writes: the job's log lines to stdout, progress to stderr. */
export interface SubmitIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/**
 * `sage job submit <file>`: bundles the pipeline file and submits it. Unless --no-wait, follows the
 * job to its end, printing its log lines and progress, and resolves 0 when it finished, 1 when it
 * failed or was stopped, 124 when --timeout expired (the job is stopped), 130 after Ctrl-C (the
 * first one drains the job, the second aborts it).
 */
export async function submitJobFile(client: JobManagerClient, file: string, options: SubmitCommandOptions, io: SubmitIO = process): Promise<number> {
  const path = resolve(file);
  if (!existsSync(path)) throw new CLIError(`no such pipeline file: ${file}`, "E_FILE_NOT_FOUND");
  const code = await bundleEntry(path);
  const first = await client.submitJob({ ...(options.name !== undefined && { name: options.name }), label: basename(file, extname(file)), code, options: { autostop: options.wait, ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }), env: { ...options.env, [CLIENT_ENV_NAMES]: clientEnvNames(process.env, options.env) } } });
  if (!options.wait) {
    if (options.json) io.stdout.write(`${JSON.stringify(first, null, 2)}\n`);
    else {
      const token = options.tokenFlag ? " --token <token>   (the same --token as here)" : "";
      io.stdout.write(`submitted job ${printable(first.name)} (${first.id})\n  follow it with: sage job watch ${first.id.slice(0, 8)}${options.serverFlags ?? ""}${token}\n`);
    }
    return 0;
  }

  // With --json stdout carries the final status only: log lines go to stderr, progress nowhere.
  const display = options.json ? undefined : createJobDisplay(io.stderr);
  const logTo = options.json ? io.stderr : io.stdout;
  display?.update(first);
  // A warning written past a live display would be drawn over at its next redraw.
  const warn = client.onWarning;
  if (display) client.onWarning = (message) => display.print(io.stderr, `[sage] ${message}\n`);
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    const notice = interrupts === 1 ? "stopping the job: draining (Ctrl-C again to abort it)" : "aborting the job";
    if (interrupts > 2) process.exit(130);
    display ? display.print(io.stderr, `[sage] ${notice}\n`) : io.stderr.write(`[sage] ${notice}\n`);
    void client.stopJob(first.id, { mode: interrupts === 1 ? "drain" : "abort" }).catch(() => {});
  };
  process.on("SIGINT", onInterrupt);
  const stopFollowing = new AbortController();
  try {
    // The follower alone tells the end, after the last line: the job's output comes before its summary.
    let timerFired = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timerFired = true;
            void client.stopJob(first.id, { mode: "abort" }).catch(() => {});
          }, options.timeoutMs);
    let final: JobStatus;
    try {
      final = await followJob(client, first.id, {
        onStatus: (status) => display?.update(status),
        onLines: (lines) => {
          const text = lines.map((line) => `${line}\n`).join("");
          display ? display.print(logTo, text) : logTo.write(text);
        },
        onDropped: (count) => {
          const notice = droppedNotice(count);
          display ? display.print(io.stderr, notice) : io.stderr.write(notice);
        },
      }, { signal: stopFollowing.signal });
    } finally {
      clearTimeout(timer);
    }
    // The server enforces --timeout too, and may stop the job first.
    const timedOut = final.state === "stopped" && options.timeoutMs !== undefined && interrupts === 0 && (timerFired || ranUntil(final) >= options.timeoutMs);
    display?.close(final);
    if (options.json) io.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
    return exitCode(final, timedOut, interrupts > 0, options, io.stderr);
  } finally {
    stopFollowing.abort();
    process.off("SIGINT", onInterrupt);
    client.onWarning = warn;
  }
}

/** A failed job's error line, then the user's frames of its stack: the one place its message is printed. */
export function failureText(final: JobStatus): string {
  const where = final.error?.operator ? ` in operator '${printable(final.error.operator)}'` : "";
  const frames = userFrames(final.error?.stack, { jobId: final.id });
  return [`sage: job '${printable(final.name)}' failed${where}: ${printable(final.error?.message ?? "unknown error")} (E_JOB_FAILED)`, ...frames.map(printable)].map((line) => `${line}\n`).join("");
}

// Milliseconds from submit to end, on the server's clock.
function ranUntil(status: JobStatus): number {
  return status.endedAt ? Date.parse(status.endedAt) - Date.parse(status.submittedAt) : 0;
}

function exitCode(final: JobStatus, timedOut: boolean, interrupted: boolean, options: SubmitCommandOptions, stderr: NodeJS.WritableStream): number {
  if (timedOut) {
    stderr.write(`sage: job '${printable(final.name)}' did not finish within ${options.timeoutMs! / 1000} s and was stopped (E_JOB_TIMEOUT)\n`);
    return EXIT_TIMEOUT;
  }
  if (interrupted) return 130;
  if (final.state === "finished") return 0;
  if (final.state === "failed") {
    stderr.write(failureText(final));
  } else {
    stderr.write(`sage: job '${printable(final.name)}' ended ${final.state} (E_JOB_${final.state.toUpperCase()})\n`);
  }
  return 1;
}
