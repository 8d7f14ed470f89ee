import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { JobFailedError, messageOf } from "../api/errors.js";
import { observeJobs, type RunningJob } from "../api/executor.js";
import type { JobStatus } from "../api/types.js";
import { CLIError } from "./cli-error.js";
import { createProgressDisplay } from "./progress.js";

/**
 * `sage run <file>`: loads a pipeline file (TypeScript included) in this process and shows its
 * jobs' progress. Ctrl-C drains the running jobs (services are cleaned up), a second Ctrl-C
 * aborts them. Resolves with the exit code once every job ended; leaves nothing open.
 */
export async function runPipelineFile(file: string, stderr: NodeJS.WriteStream = process.stderr): Promise<number> {
  const path = resolve(file);
  if (!existsSync(path)) throw new CLIError(`no such pipeline file: ${file}`, "E_FILE_NOT_FOUND");
  const display = createProgressDisplay(stderr);
  const jobs: RunningJob[] = [];
  const unobserve = observeJobs((_env, job) => {
    jobs.push(job);
    void job.status().then((status) => display.track(job, status));
  });
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    const running = jobs;
    if (interrupts === 1) {
      display.notice("stopping: draining jobs and cleaning up services (Ctrl-C again to abort)");
      for (const job of running) void job.stop({ mode: "drain" });
    } else if (interrupts === 2) {
      display.notice("aborting jobs (Ctrl-C again to exit at once)");
      for (const job of running) void job.stop({ mode: "abort" });
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onInterrupt);
  let exitCode = 0;
  let unregister: (() => Promise<void>) | undefined;
  try {
    const { register } = await import("tsx/esm/api");
    unregister = register();
    await import(pathToFileURL(path).href);
  } catch (error) {
    exitCode = 1;
    if (!(error instanceof JobFailedError)) reportLoadError(stderr, file, error);
  } finally {
    const finals: JobStatus[] = await Promise.all(jobs.map((job) => job.wait()));
    display.close(finals);
    if (finals.some((status) => status.state === "failed")) exitCode = 1;
    if (interrupts > 0 && exitCode === 0) exitCode = 130;
    process.off("SIGINT", onInterrupt);
    unobserve();
    await unregister?.();
  }
  return exitCode;
}

function reportLoadError(stderr: NodeJS.WriteStream, file: string, error: unknown): void {
  const message = messageOf(error);
  const hint = /top-level await/i.test(message)
    ? '\nhint: top-level await needs an ES module: name the file .mts, or set "type": "module" in package.json'
    : "";
  stderr.write(`sage run ${file} failed: ${error instanceof Error && error.stack ? error.stack : message}${hint}\n`);
}
