import { existsSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isSageError, messageOf } from "../api/errors.js";
import { userFrames } from "../api/stack-frames.js";
import { observeJobs, setPipelineEntry, type RunningJob } from "../api/executor.js";
import type { JobStatus } from "../api/types.js";
import { CLIError } from "./cli-error.js";
import { createProgressDisplay } from "./progress.js";
import { serveRunMetrics, type MetricsAddress } from "./run-metrics.js";

/** Options of `sage run`. */
export interface RunOptions {
  /** Serve Prometheus metrics of the run's jobs here while it runs (`--metrics-port`, `--metrics-host`). */
  metrics?: MetricsAddress;
}

/**
 * `sage run <file>`: loads a pipeline file (TypeScript included) in this process and shows its
 * jobs' progress. Ctrl-C drains the running jobs (services are cleaned up), a second Ctrl-C
 * aborts them. Resolves with the exit code once every job ended; leaves nothing open (the metrics
 * endpoint, when asked for, closes once the jobs have ended).
 */
export async function runPipelineFile(file: string, options: RunOptions = {}, stderr: NodeJS.WriteStream = process.stderr): Promise<number> {
  const path = resolve(file);
  if (!existsSync(path)) throw new CLIError(`no such pipeline file: ${file}`, "E_FILE_NOT_FOUND");
  const jobs: RunningJob[] = [];
  // Listening before the file runs: an address that cannot be had fails the run before it starts.
  const metrics = options.metrics ? await serveRunMetrics(options.metrics, () => jobs) : undefined;
  const display = createProgressDisplay(stderr);
  if (metrics) display.notice(`metrics at ${metrics.url}`);
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
  let compiled: string | undefined;
  const removeCompiled = () => compiled && rmSync(compiled, { force: true });
  process.once("exit", removeCompiled);
  setPipelineEntry(path); // a RemoteEnvironment in the file bundles the file, not this CLI
  try {
    // Loaded as an ES module whatever the package type, so top-level await works everywhere;
    // TypeScript files the module imports at run time still go through tsx.
    const { register } = await import("tsx/esm/api");
    unregister = register();
    compiled = await compileEntry(path);
    await import(pathToFileURL(compiled).href);
  } catch (error) {
    exitCode = 1;
    if ((error as { code?: unknown } | null)?.code !== "E_JOB_FAILED") reportLoadError(stderr, file, error);
  } finally {
    removeCompiled();
    process.off("exit", removeCompiled);
    const finals: JobStatus[] = await Promise.all(jobs.map((job) => job.wait()));
    display.close(finals);
    for (const status of finals) if (status.state === "failed") stderr.write(userFrames(status.error?.stack, { jobId: status.id }).map((line) => `${line}\n`).join(""));
    if (finals.length === 0 && exitCode === 0) stderr.write(`[sage] ${file} submitted no job (call env.submit())\n`);
    if (finals.some((status) => status.state === "failed")) exitCode = 1;
    if (interrupts > 0 && exitCode === 0) exitCode = 130;
    await metrics?.close();
    process.off("SIGINT", onInterrupt);
    unobserve();
    await unregister?.();
  }
  return exitCode;
}

// The file bundled (its npm imports left as imports) into a hidden ES module beside it, so that
// its bare imports resolve exactly as they would from the file itself.
async function compileEntry(path: string): Promise<string> {
  const { build } = await import("esbuild");
  const out = join(dirname(path), `.${basename(path)}.sage-run-${process.pid}.mjs`);
  try {
    await build({
      entryPoints: [path],
      outfile: out,
      bundle: true,
      packages: "external",
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "inline",
      logLevel: "silent",
      banner: { js: "import { createRequire as __sageCreateRequire } from 'node:module'; const require = __sageCreateRequire(import.meta.url);" },
    });
  } catch (error) {
    const first = (error as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } }> }).errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : "";
    throw new CLIError(`cannot load ${basename(path)}: ${where}${first?.text ?? messageOf(error)}`, "E_PIPELINE_SYNTAX", 1);
  }
  process.setSourceMapsEnabled(true);
  return out;
}

function reportLoadError(stderr: NodeJS.WriteStream, file: string, error: unknown): void {
  if (error instanceof CLIError) throw error;
  // SAGE's own errors (a malformed pipeline, bad options) are about the line of the user's that
  // made the call: its frames first, without how the framework got to the check.
  const lines =
    isSageError(error) && error.stack ? [`${error.name}: ${error.message}`, ...userFrames(error.stack)] : [error instanceof Error && error.stack ? error.stack : messageOf(error)];
  stderr.write(`sage run ${file} failed: ${lines.join("\n")}\n`);
}
