/** Task ids are strings with a brand so they cannot be confused with other ids. */
export type TaskId = string & { readonly __brand: "TaskId" };

/** How an edge spreads records over the target's parallel instances. */
export type PartitionKind = "forward" | "rebalance" | "hash" | "broadcast";

/** Operator kinds the runtime knows how to build. */
export type OperatorKind = "batch" | "source" | "map" | "filter" | "flatMap" | "keyBy" | "sink" | "coMap" | "join";

/** One logical operator; `fnRef` finds the user function again in the environment. */
export interface OperatorSpec {
  fnRef: number;
  name: string;
  kind: OperatorKind;
  parallelism: number;
  concurrency: number;
  remote: boolean;
  /** Number of logical inputs (connected streams). */
  inputCount: number;
  /** A `fromService` source: the service whose requests it emits. */
  serves?: string;
  /** A `replyTo` sink: the service whose requests it answers. */
  replies?: string;
}

/** A fused chain of forward-connected operators, run as one task per parallel instance. */
export interface TaskSpec {
  id: TaskId;
  name: string;
  /** Head first; only the head may have several inputs. */
  operators: OperatorSpec[];
  parallelism: number;
  remote: boolean;
}

/** A data channel group between two tasks. */
export interface EdgeSpec {
  id: number;
  from: TaskId;
  to: TaskId;
  partition: PartitionKind;
  /** The input index of the target's head operator. */
  inputIndex: number;
  /** Closes a feedback loop (filled future): carries no end-of-stream, never blocks. */
  feedback: boolean;
  /** The loop both ends belong to, if any. */
  loop?: number;
}

/** Tasks that form a cycle; their loop ends when outside input ended and nothing is in flight. */
export interface LoopSpec {
  id: number;
  tasks: TaskId[];
}

/**
 * A pipeline served as a service: its `fromService` source task and every task downstream of it
 * (the region whose in-flight work tells when a request was dropped and when the service is idle).
 */
export interface ServingSpec {
  service: string;
  source: TaskId;
  /** The source task first, then every task reachable from it. */
  tasks: TaskId[];
}

/** A registered service as the graph records it. */
export interface ServiceSpec {
  name: string;
  remote: boolean;
  maxConcurrency: number;
}

/** The compiled job: plain JSON, the same in every mode. */
export interface ExecutionGraph {
  name: string;
  operators: OperatorSpec[];
  tasks: TaskSpec[];
  edges: EdgeSpec[];
  loops: LoopSpec[];
  services: ServiceSpec[];
  /** Pipelines served as services (absent when there are none). */
  serving?: ServingSpec[];
}
