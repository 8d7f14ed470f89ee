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
import { muteOutput } from "./mute-output.js";
import type { DriverReport, JobHostOptions } from "./protocol.js";
import { subjects } from "./subjects.js";

const options = JSON.parse(process.env.SAGE_JOB_HOST ?? "{}") as JobHostOptions;
const url = process.env.SAGE_CLUSTER;
process.setSourceMapsEnabled(true);

async function main(): Promise<void> {
  if (!url || !options.jobId || !options.bundle) throw new Error("a job host needs SAGE_CLUSTER and SAGE_JOB_HOST");
  const nc = await connectCluster({ url, ...(process.env.SAGE_CLUSTER_CREDS && { creds: process.env.SAGE_CLUSTER_CREDS }) }, { name: `sage-host-loader ${options.worker}`, requireJetStream: false });
  const report = (message: DriverReport) => nc.publish(subjects.driver(options.jobId), JSON.stringify(message));
  const fail = async (message: string, stack?: string) => {
    report({ type: "host-failed", worker: options.worker, error: message, ...(stack !== undefined && { stack }) });
    await nc.flush().catch(() => undefined);
    process.exit(1);
  };
  // The module builds its pipeline from the same arguments as in the driver.
  if (options.argv) process.argv = [process.argv[0]!, process.argv[1]!, ...options.argv];
  // What the module prints before its job's pipeline was printed by the driver already.
  const unmute = muteOutput();
  let submits = 0;
  installClusterHostHook({
    options,
    nextPipeline: () => {
      if (submits === options.pipelineIndex) unmute();
      return submits++;
    },
    refuse: (message, stack) => void fail(message, stack),
  });
  let file: string | undefined;
  try {
    const code = await fetchBundle(nc, options.bundle);
    const dir = mkdtempSync(join(tmpdir(), "sage-job-"));
    file = join(dir, "job.mjs");
    writeFileSync(file, code, { mode: 0o600 });
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    await import(pathToFileURL(file).href);
  } catch (error) {
    unmute();
    await fail(`the job module failed on worker '${options.worker}': ${messageOf(error)}`, error instanceof Error ? error.stack : undefined);
    return;
  }
  // The module's code finished without reaching the job's pipeline.
  setTimeout(() => {
    if (submits <= options.pipelineIndex) void fail(`the job module made ${submits} submit() call(s) on worker '${options.worker}', but the driver's job is call ${options.pipelineIndex + 1}`);
  }, 100);
}

main().catch((error) => {
  process.stderr.write(`sage job host: ${messageOf(error)}\n`);
  process.exit(1);
});
