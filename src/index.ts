/**
 * SAGE for TypeScript: declare dataflow pipelines for LLM workloads and run them locally,
 * on a JobManager, or on a cluster.
 * @module
 */
import { registerClusterHostExecutor, registerExecutor, registerJobProcessExecutor, type JobExecutor } from "./api/executor.js";
import { InJobExecutor } from "./jobmanager/in-job-executor.js";
import { RemoteExecutor } from "./jobmanager/remote-executor.js";
import { LocalExecutor } from "./runtime/local-executor.js";

registerExecutor("local", () => new LocalExecutor());
registerExecutor("remote", () => new RemoteExecutor());
registerJobProcessExecutor(() => new InJobExecutor());
// Distributed mode loads NATS and the cluster code only when a job uses it.
const lazily = (load: () => Promise<JobExecutor>): JobExecutor => ({ start: async (...args) => (await load()).start(...args) });
registerExecutor("distributed", () => lazily(async () => new (await import("./cluster/distributed-executor.js")).DistributedExecutor()));
registerClusterHostExecutor(() => lazily(async () => new (await import("./cluster/host-executor.js")).ClusterHostExecutor()));

// --- environments and streams ---
export { BaseEnvironment } from "./api/environment.js";
export { LocalEnvironment } from "./api/local-environment.js";
export { RemoteEnvironment, type RemoteEnvironmentOptions } from "./api/remote-environment.js";
export { JobManagerClient, type JobManagerClientOptions } from "./jobmanager/client.js";
export { DataStream } from "./api/datastream.js";
export { ConnectedStreams } from "./api/connected-streams.js";

// --- functions and services ---
export {
  BaseFunction,
  BatchFunction,
  SourceFunction,
  MapFunction,
  FilterFunction,
  FlatMapFunction,
  KeyByFunction,
  SinkFunction,
  CoMapFunction,
  JoinFunction,
  type Collector,
  type SourceProgressReport,
} from "./api/functions.js";
export { BaseService, ServiceFactory, type ServiceDefinition, type ServiceOptions } from "./api/service.js";
export { END_OF_STREAM, type EndOfStream } from "./api/end-of-stream.js";
export { replyTo, type ServiceRequest, type PipelineService, type FromServiceOptions } from "./api/pipeline-service.js";

// --- errors ---
export {
  SageError,
  ServiceNotFoundError,
  ServiceCallTimeoutError,
  ServiceCallError,
  JobFailedError,
  JobTimeoutError,
  PipelineDefinitionError,
  JobManagerError,
  OperatorError,
  errors,
} from "./api/errors.js";

// --- types ---
export type {
  JobState,
  JobStatus,
  JobEvent,
  JobHandle,
  SubmitOptions,
  StopOptions,
  OperatorOptions,
  OperatorStatus,
  GraphEdge,
  InstanceStatus,
  LatencySummary,
  SourceProgress,
  ServiceStatus,
  SourceOptions,
  EnvironmentConfig,
  FunctionContext,
  ServiceContext,
  ServiceProxy,
  ServiceCallOptions,
  Logger,
  LogLevel,
  Platform,
} from "./api/types.js";
export type { BatchSource, UnboundedSource, ClassOf } from "./api/function-types.js";
