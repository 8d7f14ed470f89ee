/**
 * The entry of a job host process, started by a worker for one job: fetches the job's bundle from
 * the cluster, installs the cluster host hook and evaluates the bundle, whose `submit()` then hosts
 * the parts the driver places here (see ClusterHostExecutor). A module that fails, or never
 * reaches its pipeline, is reported to the driver as a failed host.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { installClusterHostHook } from "../api/executor.js";
import { messageOf } from "../api/errors.js";
import { fetchBundle } from "./cluster-bundles.js";
import { connectCluster } from "./connect.js";
import { exitAfterOutput } from "./exit-after-output.js";
import { muteOutput } from "./mute-output.js";
import type { DriverReport, JobHostOptions } from "./protocol.js";
import { subjects } from "./subjects.js";

const options = JSON.parse(process.env.SAGE_JOB_HOST ?? "{}") as JobHostOptions;
const url = process.env.SAGE_CLUSTER;
process.setSourceMapsEnabled(true);

// How long a module whose code has finished may take to reach its pipeline's submit() (an async
// main() may await things first); below the driver's 30 s limit on a host's start, so the driver
// hears why rather than a timeout.
const PIPELINE_WAIT_MS = 20_000;
// The first statement the module runs: its file has been read then, and goes at once (the job's
// source is not left on the worker's disk; the inline source map was read with it). On the
// first line, after a hashbang: no line of the source map moves.
const EVALUATING_KEY = "sage.jobModuleEvaluating";
const EVALUATING = `globalThis[Symbol.for(${JSON.stringify(EVALUATING_KEY)})]?.();`;

function withEvaluatingHook(code: string): string {
  if (!code.startsWith("#!")) return EVALUATING + code;
  const eol = code.indexOf("\n");
  return eol < 0 ? code : code.slice(0, eol + 1) + EVALUATING + code.slice(eol + 1);
}

async function main(): Promise<void> {
  if (!url || !options.jobId || !options.bundle) throw new Error("a job host needs SAGE_CLUSTER and SAGE_JOB_HOST");
  // The worker made the directory and removes it after this process exited, even a killed one;
  // this process removes it too (from here on, whatever its end), for a worker that was killed first.
  const dir = process.env.SAGE_JOB_DIR || mkdtempSync(join(tmpdir(), "sage-job-"));
  let file: string | undefined;
  const removeFile = () => {
    if (file) rmSync(file, { force: true });
  };
  process.on("exit", () => {
    removeFile();
    rmSync(dir, { recursive: true, force: true });
  });
  const nc = await connectCluster({ url, ...(process.env.SAGE_CLUSTER_CREDS && { creds: process.env.SAGE_CLUSTER_CREDS }) }, { name: `sage-host-loader ${options.worker}`, requireJetStream: false });
  const report = (message: DriverReport) => nc.publish(subjects.driver(options.jobId), JSON.stringify(message));
  const fail = async (message: string, stack?: string) => {
    report({ type: "host-failed", worker: options.worker, error: message, ...(stack !== undefined && { stack }) });
    await nc.flush().catch(() => undefined);
    exitAfterOutput(1);
  };
  // The module builds its pipeline from the same arguments as in the driver.
  if (options.argv) process.argv = [process.argv[0]!, process.argv[1]!, ...options.argv];
  // What the module prints before its job's pipeline was printed by the driver already.
  const unmute = muteOutput();
  let submits = 0;
  (globalThis as Record<symbol, unknown>)[Symbol.for(EVALUATING_KEY)] = removeFile;
  let reached!: () => void;
  const pipelineReached = new Promise<void>((resolve) => (reached = resolve));
  installClusterHostHook({
    options,
    nextPipeline: () => {
      removeFile();
      if (submits === options.pipelineIndex) {
        unmute();
        reached();
      }
      return submits++;
    },
    refuse: (message, stack) => void fail(message, stack),
  });
  try {
    const code = await fetchBundle(nc, options.bundle);
    file = join(dir, "job.mjs");
    writeFileSync(file, withEvaluatingHook(code), { mode: 0o600 });
    await import(pathToFileURL(file).href);
  } catch (error) {
    unmute();
    await fail(`the job module failed on worker '${options.worker}': ${messageOf(error)}`, error instanceof Error ? error.stack : undefined);
    return;
  } finally {
    removeFile();
  }
  if (submits > options.pipelineIndex) return;
  // The module's top-level code finished without reaching the job's pipeline: it may still (an async main()).
  const timer = setTimeout(() => {
    void fail(`the job module made ${submits} submit() call(s) on worker '${options.worker}' within ${PIPELINE_WAIT_MS / 1000} s of its evaluation, but the driver's job is call ${options.pipelineIndex + 1}`);
  }, PIPELINE_WAIT_MS);
  void pipelineReached.then(() => clearTimeout(timer));
}

main().catch((error) => {
  process.stderr.write(`sage job host: ${messageOf(error)}\n`);
  exitAfterOutput(1);
});
