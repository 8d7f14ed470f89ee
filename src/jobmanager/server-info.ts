import type { JobState } from "../api/types.js";

/** A live worker as `GET /api/info` lists it. */
export interface ClusterWorkerInfo {
  name: string;
  host: string;
  slots: number;
  /** Slots its job hosts take now. */
  used: number;
  /** Ids of the jobs it hosts parts of. */
  jobs: string[];
  /** How long ago its last heartbeat was seen, in ms. */
  lastBeatMs: number;
}

/** The cluster part of `GET /api/info`: where it is (password or token redacted) and its live workers. */
export interface ClusterInfo {
  url: string;
  /** False while the connection to the broker is down (it reconnects by itself). */
  connected: boolean;
  workers: ClusterWorkerInfo[];
}

/** What `GET /api/info` answers: the server's facts, for the CLI's status and the dashboard's overview. */
export interface ServerInfo {
  version: string;
  uptimeMs: number;
  host: string;
  port: number;
  pid: number;
  jobs: Record<JobState, number>;
  /** The job processes alive now. */
  processes: Array<{ id: string; pid: number | undefined }>;
  /** With `--cluster`: where the jobs' remote parts go. */
  cluster?: ClusterInfo;
}
