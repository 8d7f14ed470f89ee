import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClusterAddress } from "./connect.js";
import { drainOutput } from "./child-output.js";
import { jobEnvProblems } from "./job-env.js";
import { splitLines } from "./line-splitter.js";
import { JOB_MARKER, jobProcesses, killJobTree } from "./process-tree.js";
import type { JobHostOptions } from "./protocol.js";

/** Where a host's (or the worker's own) output lines go. */
export type OutputSink = (line: string, stream: "out" | "err") => void;

/** How a job host process ended. */
export interface HostExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Processes it left running that were killed after it exited. */
  leftovers: number;
}

/** What a job host process is started with. */
export interface JobHostSpawn {
  /** The host script (.ts runs with the tsx loader). */
  entry: string;
  options: JobHostOptions;
  cluster: ClusterAddress;
  output: OutputSink;
  /** Longer output lines are cut (default 16 KiB). */
  maxLineBytes?: number;
  /** Called once the host's output has been read, to its end or until the read gave up (after its exit, before `exited` resolves). */
  outputEnded?: () => void;
}

// After the host exited, what it wrote last is read from its pipes: the host flushed its output
// before exiting, so only the pipes' buffers are left. The read lasts until they end, this long
// without data, or OUTPUT_DRAIN_MAX_MS in all (a process it started may hold them open).
const OUTPUT_IDLE_MS = 100;
const OUTPUT_DRAIN_MAX_MS = 1000;
// How long killed processes may take to be gone (a SIGKILL is not instant).
const DEATH_WAIT_MS = 2000;

/** The job host script of this package: job-host.ts from the sources, dist/cluster/job-host.js when built. */
export function defaultHostEntry(): string {
  return fileURLToPath(new URL(`../cluster/job-host.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url));
}

/**
 * The process marker of a job's host on one worker. It differs from the job id on purpose: the
 * driver may itself be a JobManager job process carrying the job id as its marker, on this very
 * machine, and ending a host must never end the driver.
 */
export function hostMarker(jobId: string, worker: string): string {
  return `${jobId}@${worker}`;
}

/**
 * One job's host process on a worker: the leader of a session and process group of its own, with
 * the job's marker in its environment, so it and everything it starts can be ended together (see
 * process-tree.ts). Its output is forwarded line by line, prefixed with the job id. Its stdin is a
 * pipe the worker never writes: end-of-file on it means the worker is gone (see host-lifeline.ts).
 */
export class JobHostProcess {
  readonly jobId: string;
  readonly pid: number;
  /** Resolves once the host exited and whatever it left running was killed. */
  readonly exited: Promise<HostExit>;
  #ended = false;

  private constructor(jobId: string, readonly marker: string, child: ChildProcess, dir: string, outputEnded: () => void) {
    this.jobId = jobId;
    this.pid = child.pid!;
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.#ended = true;
        // A host killed before it could clean up leaves the job's code there.
        rmSync(dir, { recursive: true, force: true });
        // Its children outlive it unless ended here: they are the job's too.
        const leftovers = killJobTree(this.pid, marker, false);
        child.stdin?.destroy();
        // The worker answers the driver once the host has exited: every line it printed goes first.
        const drained = drainOutput([child.stdout, child.stderr], OUTPUT_IDLE_MS, OUTPUT_DRAIN_MAX_MS).then(() => {
          try {
            outputEnded();
          } catch {
            // whoever listens cannot stop the host's end
          }
        });
        // Killed processes take a moment to die; with none killed there is nothing to wait for.
        void Promise.all([drained, leftovers > 0 ? gone(this.pid, marker) : undefined]).then(() => resolve({ code, signal, leftovers }));
      }),
    );
  }

  /** Starts the host; resolves once the process runs, rejects when it cannot be started. */
  static spawn(spec: JobHostSpawn): Promise<JobHostProcess> {
    const { entry, options, cluster } = spec;
    const loader = entry.endsWith(".ts") ? ["--import", "tsx"] : [];
    // Checked where the request is read too: here whatever path it came by.
    const refused = options.env === undefined ? undefined : jobEnvProblems(options.env);
    if (refused) return Promise.reject(new Error(`the job's environment (host.env) is refused: ${refused}`));
    // The host writes the job's code here; it is this worker's to remove, whatever the host's end.
    let dir: string;
    try {
      dir = mkdtempSync(join(tmpdir(), `sage-job-${options.jobId}-`));
    } catch (error) {
      return Promise.reject(new Error(`cannot make the job host's directory: ${(error as Error).message}`));
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      SAGE_JOB_HOST: JSON.stringify(options),
      SAGE_JOB_DIR: dir,
      SAGE_CLUSTER: cluster.url,
      [JOB_MARKER]: hostMarker(options.jobId, options.worker),
    };
    if (cluster.creds) env.SAGE_CLUSTER_CREDS = cluster.creds;
    else delete env.SAGE_CLUSTER_CREDS;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...loader, entry], { stdio: ["pipe", "pipe", "pipe"], detached: true, env });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      return Promise.reject(new Error(`cannot start the job host process (${entry}): ${(error as Error).message}`));
    }
    const prefix = `[job ${options.jobId}] `;
    const maxLineBytes = spec.maxLineBytes ?? 16 * 1024;
    splitLines(child.stdout!, maxLineBytes, (line) => spec.output(prefix + line, "out"));
    splitLines(child.stderr!, maxLineBytes, (line) => spec.output(prefix + line, "err"));
    // A host that dies while the worker writes nothing to it must not break the worker.
    child.stdin!.on("error", () => undefined);
    return new Promise((resolve, reject) => {
      child.once("spawn", () => resolve(new this(options.jobId, hostMarker(options.jobId, options.worker), child, dir, spec.outputEnded ?? (() => {}))));
      // Kept for good: an 'error' after the start (a failed signal) must not throw.
      child.on("error", (error) => {
        if (child.pid !== undefined) return;
        rmSync(dir, { recursive: true, force: true });
        reject(new Error(`cannot start the job host process (${entry}): ${error.message}`));
      });
    });
  }

  /** Whether it has exited. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Ends the host and everything it started: SIGTERM (it may clean up), then after `graceMs` the
   * whole tree is killed; resolves once it is gone.
   */
  async end(graceMs: number): Promise<HostExit> {
    if (!this.#ended) {
      try {
        process.kill(this.pid, "SIGTERM");
      } catch {
        // exited meanwhile
      }
      const timer = setTimeout(() => {
        if (!this.#ended) killJobTree(this.pid, this.marker);
      }, graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

// Resolves once no process of the job is left (killed ones take a moment to die), or after DEATH_WAIT_MS.
async function gone(leader: number, jobId: string): Promise<void> {
  const deadline = Date.now() + DEATH_WAIT_MS;
  while (jobProcesses(leader, jobId).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
