/**
 * The shapes the JobManager's API answers with, taken from the server's own declarations (types
 * only: nothing of the server's code reaches the browser bundle).
 */
export type {
  GraphEdge,
  InstanceStatus,
  JobEvent,
  JobState,
  JobStatus,
  LatencySummary,
  OperatorStatus,
  ServiceStatus,
  SourceProgress,
} from "../../../src/api/types.js";
export type { ClusterInfo, ClusterWorkerInfo, ServerInfo } from "../../../src/jobmanager/server-info.js";
export type { JobHistory, OperatorSeries, Series, ServiceSeries } from "../../../src/jobmanager/job-history.js";
