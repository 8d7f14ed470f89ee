/** Shapes shared by the orchestrator, the child runner and the peers. */

/** The workloads of the suite. */
export type WorkloadId = "w1" | "w2" | "w3" | "autostop";

/** What a peer's run reports besides its duration. */
export interface RunOutput {
  /** Must be equal for every peer of a workload. */
  checksum: string;
  /** Extra facts about the run (e.g. whether output order was kept). */
  info?: Record<string, unknown>;
  /** Latency-style samples collected inside the run (autostop), in ms. */
  samplesMs?: number[];
}

/** A peer made ready to run a workload repeatedly. */
export interface Prepared {
  /** Runs the workload over `records` input records. */
  run(records: number): Promise<RunOutput>;
  /** Releases what `prepare` acquired (agents, sockets). */
  dispose?(): void | Promise<void>;
}

/** What the child process hands to a peer's `prepare`. */
export interface PrepareContext {
  /** Port of the harness's delayed HTTP server (W2 only). */
  httpPort?: number;
}

/** Builds a {@link Prepared} peer. */
export type PrepareFn = (ctx: PrepareContext) => Prepared | Promise<Prepared>;

/** One measured variant as a child process reports it. */
export interface VariantResult {
  id: string;
  workload: WorkloadId;
  peer: string;
  label: string;
  sage: boolean;
  /** Input records per measured run. */
  records: number;
  /** Measured cold: a fresh process, no warm-up, one run (the natural-code-path rows). */
  cold?: boolean;
  /** The same job with no records: what a bounded job costs whatever its size (not compared by checksum). */
  fixedCost?: boolean;
  /** Child processes the samples come from (set when rounds are merged). */
  rounds?: number;
  /** Wall time of each measured run, ms (for autostop: each latency sample). */
  samplesMs: number[];
  /**
   * CPU time (user + system, all threads: JIT compiler and GC included) of each measured run, ms;
   * on a loaded machine it varies far less than wall time.
   */
  cpuSamplesMs?: number[];
  medianMs: number;
  bestMs: number;
  p95Ms: number;
  checksum: string;
  info: Record<string, unknown>;
  rss: { baselineMB: number; peakMB: number };
  /** Handles still open when the child finished (should be empty). */
  lingering: string[];
}
