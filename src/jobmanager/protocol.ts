import type { JobProcessReport } from "../api/executor.js";
import type { JobEvent, StopOptions } from "../api/types.js";

/** Submit options a JobManager accepts with a job. */
export interface RemoteSubmitOptions {
  autostop?: boolean;
  timeoutMs?: number;
  keepServices?: boolean;
  /**
   * A hash of the execution graph the client built; the job process checks that it builds the
   * same one (a pipeline that depends on the client's environment or arguments would not).
   */
  graphFingerprint?: string;
  /** Environment variables for the job process (the client's own are not sent). */
  env?: Record<string, string>;
  /**
   * A RemoteEnvironment script's pipeline: the number of its `submit()` among the script's submits.
   * The job process runs that pipeline only; without it, the module runs all of its pipelines.
   */
  pipelineIndex?: number;
  /** The client environment's name for that pipeline (checked with the fingerprint). */
  pipelineName?: string;
}

/** The body of `POST /api/jobs`. */
export interface SubmitJobRequest {
  /** The job's name, kept from `created` on. */
  name?: string;
  /** The job's name when none is given (e.g. the entry file's name). */
  label?: string;
  /** The bundled job module (ES module source). */
  code: string;
  options?: RemoteSubmitOptions;
}

/** Messages a job process sends its supervisor over its report channel (report-channel.ts). */
export type JobProcessMessage = { type: "event"; event: JobEvent } | JobProcessReport | { type: "module-done"; submitted: boolean };

/** Messages a supervisor sends its job process over its control channel (report-channel.ts). */
export type SupervisorMessage = { type: "stop"; options: StopOptions } | { type: "release" };

/** The JSON error body of every failed request. */
export interface ErrorBody {
  error: { code: string; message: string };
}
