import { DEFAULT_HOST, DEFAULT_PORT, sageAddress } from "./address.js";
import { BaseEnvironment } from "./environment.js";
import type { EnvironmentConfig, Platform } from "./types.js";

/** Where a RemoteEnvironment submits its jobs. */
export interface RemoteEnvironmentOptions {
  /** JobManager host (default: the host of SAGE_ADDRESS, else "127.0.0.1"). */
  host?: string;
  /** JobManager port (default: the port of SAGE_ADDRESS, else 19001). */
  port?: number;
  /** Bearer token; defaults to SAGE_TOKEN, then the token file of a local JobManager. */
  token?: string;
  config?: EnvironmentConfig;
  /**
   * The pipeline's entry file, bundled with its imports and shipped to the JobManager; defaults
   * to the file `sage run` runs, else the main module (`process.argv[1]`).
   */
  entry?: string;
  /**
   * Environment variables for the job process. The job module runs again on the JobManager,
   * without the client's environment and arguments: what the pipeline depends on goes here.
   */
  env?: Record<string, string>;
  /** Print the job's log lines (its console output) here while waiting for it (default true). */
  logs?: boolean;
}

/**
 * Runs pipelines on a JobManager server: `submit()` bundles the entry file with what it imports
 * and uploads it; the server evaluates it in a job process, where the same calls rebuild the same
 * graph. A script that works with LocalEnvironment works unchanged.
 */
export class RemoteEnvironment extends BaseEnvironment {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly entry: string | undefined;
  /** Environment variables for the job process. */
  readonly jobEnv: Record<string, string> | undefined;
  /** Whether waiting for a job prints its log lines here. */
  readonly printLogs: boolean;

  constructor(name = "remote_environment", options: RemoteEnvironmentOptions = {}) {
    super(name, options.config);
    const address = options.host === undefined || options.port === undefined ? sageAddress() : undefined;
    this.host = options.host ?? address?.host ?? DEFAULT_HOST;
    this.port = options.port ?? address?.port ?? DEFAULT_PORT;
    this.token = options.token;
    this.entry = options.entry;
    this.jobEnv = options.env;
    this.printLogs = options.logs ?? true;
  }

  /** Always `remote`. */
  get platform(): Platform {
    return "remote";
  }
}
