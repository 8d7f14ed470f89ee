import type { BaseEnvironment } from "../api/environment.js";
import { OperatorError, messageOf } from "../api/errors.js";
import { replySpecOf } from "../api/pipeline-service.js";
import type { FunctionContext } from "../api/types.js";
import type { EdgeSpec, ExecutionGraph, OperatorSpec, TaskSpec } from "../graph/execution-graph.js";
import { UnhashableKeyError } from "./hash.js";
import { functionContext, type JobScope } from "./job-context.js";
import { LoopTracker } from "./loop-tracker.js";
import { NO_WORK_TRACKING, newCounters, type OperatorCounters, type WorkCounter } from "./metrics.js";
import { SourceReader } from "./source-reader.js";
import { CoMapStage } from "./stages/co-map-stage.js";
import { FilterStage } from "./stages/filter-stage.js";
import { FlatMapStage } from "./stages/flat-map-stage.js";
import { JoinStage } from "./stages/join-stage.js";
import { KeyByStage } from "./stages/key-by-stage.js";
import { MapStage } from "./stages/map-stage.js";
import { RouterStage, type RouterOutput } from "./stages/router-stage.js";
import { SinkStage } from "./stages/sink-stage.js";
import { FusedRun, isFusable } from "./stages/fused-run.js";
import { TERMINAL_STAGE, type FusableParts, type Stage, type StageEnv } from "./stages/stage.js";
import { TaskClock } from "./task-clock.js";
import { ChannelTask, SourceTask, type ClosableStage, type TaskEnv, type TaskInstance } from "./task.js";
import type { ChannelSender, Transport } from "./transport.js";
import { closeOnce, entryPoint, instantiate, type FunctionHooks } from "./user-function.js";
import { combinedWork, releasingHead } from "./serving/region-work.js";
import { replyFunction } from "./serving/reply.js";
import type { ServingHub } from "./serving/serving-hub.js";

/** Everything needed to build the task instances of one job. */
export interface BuildContext {
  env: BaseEnvironment;
  graph: ExecutionGraph;
  scope: JobScope;
  transport: Transport;
  taskEnv: TaskEnv;
  batchSize: number;
  /** Counters per operator name, one entry per instance. */
  counters: Map<string, OperatorCounters[]>;
  /** Reports failures that happen outside a push (async completions). */
  fail(error: unknown): void;
  /**
   * Counts the async calls in flight of an instance outside any loop (a transport that must not
   * acknowledge input whose outputs are still to come asks for it); none by default.
   */
  workOf?(task: TaskSpec, index: number): WorkCounter | undefined;
  /** The job's pipelines served as services, when it has any. */
  serving?: ServingHub;
}

/**
 * Builds the parallel instances of the job's tasks (those `include` accepts, or all), with loop
 * trackers wired in. Loops only work with all of their tasks built here (distributed mode keeps
 * them in the driver).
 */
export function buildTasks(build: BuildContext, include: (task: TaskSpec, index: number) => boolean = () => true): TaskInstance[] {
  const { graph } = build;
  // Most jobs have no feedback loop: their trackers need no code compiled.
  const trackers = graph.loops.length > 0 ? createLoopTrackers(build) : NO_TRACKERS;
  const instances: TaskInstance[] = [];
  for (const task of graph.tasks) {
    for (let index = 0; index < task.parallelism; index++) {
      if (include(task, index)) instances.push(buildInstance(build, task, index, trackers));
    }
  }
  return instances;
}

/** Builds one instance of a task outside any feedback loop (a job host on a worker does this). */
export function buildTaskInstance(build: BuildContext, task: TaskSpec, index: number): TaskInstance {
  return buildInstance(build, task, index, NO_TRACKERS);
}

const NO_TRACKERS: ReadonlyMap<number, LoopTracker> = new Map();

/** What both kinds of task head are built on: the instance's name and index, its chain, its closables, its clock. */
interface InstanceParts {
  name: string;
  index: number;
  next: Stage;
  closables: ClosableStage[];
  clock: TaskClock;
}

function buildInstance(build: BuildContext, task: TaskSpec, index: number, trackers: ReadonlyMap<number, LoopTracker>): TaskInstance {
  const { graph } = build;
  const loopId = graph.edges.find((e) => e.loop !== undefined && (e.from === task.id || e.to === task.id))?.loop;
  const tracker = loopId === undefined ? undefined : trackers.get(loopId);
  const base: WorkCounter = tracker ?? build.workOf?.(task, index) ?? NO_WORK_TRACKING;
  // Part of a served pipeline: its in-flight work also counts for that pipeline (see RequestEndpoint).
  const regions = build.serving?.regionsOf(task.id) ?? [];
  const regionWork = regions.length > 0 ? combinedWork(regions) : undefined;
  const work = regionWork ? combinedWork([base, regionWork]) : base;
  const clock = new TaskClock();
  const outputs = graph.edges.filter((e) => e.from === task.id).map((e) => routerOutput(build, e, index, tracker, regionWork));
  let next: Stage = outputs.length > 0 ? new RouterStage(outputs, clock) : TERMINAL_STAGE;
  const closables: ClosableStage[] = [];
  const [head, ...rest] = task.operators;
  const isSource = head!.kind === "batch" || head!.kind === "source";
  // Built tail first. Consecutive map/filter/keyBy/sink stages are also compiled into one fused
  // loop (see FusedRun); the generic stages stay linked behind it for the async path.
  let run: FusableParts[] = [];
  let afterRun: Stage = next;
  const closeRun = () => {
    if (run.length > 0) next = new FusedRun(run, afterRun);
    run = [];
  };
  for (const op of (isSource ? rest : task.operators).slice().reverse()) {
    const built = createStage(build, op, index, run.length > 0 ? run[0]!.stage : next, work, clock);
    closables.unshift(built);
    if (isFusable(built.stage)) {
      if (run.length === 0) afterRun = next;
      run.unshift(built.stage.fusion());
    } else {
      closeRun();
      next = built.stage;
    }
  }
  closeRun();
  const parts: InstanceParts = { name: `${task.name}#${index}`, index, next, closables, clock };
  // Each kind of head is built by a function of its own: a job compiles only the kinds it has.
  const instance = isSource ? sourceInstance(build, head!, parts) : channelInstance(build, task, parts, base, tracker);
  instance.serving = regions.length > 0;
  return instance;
}

// A task whose head is a source: reads it (straight through its fused run when it can).
function sourceInstance(build: BuildContext, op: OperatorSpec, { name, index, next, closables, clock }: InstanceParts): TaskInstance {
  const ctx = functionContext(build.scope, op.name, index, op.parallelism);
  const transformation = build.env.pipeline[op.fnRef]!;
  const served = op.serves === undefined ? undefined : servingOf(build).endpoint(op.serves);
  // A served pipeline's source reads its requests until the job decides it is over (see
  // ServingHub): a drain stops the callers' sources, not this one, so in-flight calls are answered.
  const taskEnv: TaskEnv = served ? { ...build.taskEnv, stopSignal: build.taskEnv.abortSignal } : build.taskEnv;
  const definition = served ? served.requests() : transformation.fn;
  const reader = guard(op, () => new SourceReader(op.kind as "batch" | "source", definition, transformation.options.args, ctx, taskEnv.stopSignal));
  const counters = countersFor(build, op, index, clock);
  counters.progress = () => reader.progress(counters.recordsOut);
  closables.unshift(closableOf(op, reader.hooks));
  // A source that throws inside the fused loop counts its error, as a failing pull does (see SourceTask.loop).
  const failSource = (error: unknown) => {
    counters.errors++;
    return new OperatorError(op.name, error);
  };
  const fusedPull = !served && next instanceof FusedRun ? next.sourceLoop(reader, counters, failSource) : undefined;
  return new SourceTask(name, served ? releasingHead(next, served) : next, closables, taskEnv, reader, counters, build.batchSize, fusedPull, clock);
}

// A task whose head reads channels: its inbox, and how many ends of stream close it.
function channelInstance(build: BuildContext, task: TaskSpec, { name, index, next, closables, clock }: InstanceParts, base: WorkCounter, tracker: LoopTracker | undefined): TaskInstance {
  const inbox = build.transport.inbox(task.id, index);
  clock.inbox = inbox;
  return new ChannelTask(name, next, closables, build.taskEnv, inbox, expectedEnds(build.graph, task, index), base, tracker, regionInputs(build, task), clock);
}

function servingOf(build: BuildContext): ServingHub {
  if (!build.serving) throw new Error("internal: a served pipeline is built without the job's serving hub");
  return build.serving;
}

// Per input of a served pipeline's task: the work its batches carry (that of the sending task's pipelines).
function regionInputs(build: BuildContext, task: TaskSpec): Map<number, WorkCounter> | undefined {
  if (!build.serving || build.serving.regionsOf(task.id).length === 0) return undefined;
  const inputs = new Map<number, WorkCounter>();
  for (const edge of build.graph.edges) {
    if (edge.to !== task.id) continue;
    const from = build.serving.regionsOf(edge.from);
    if (from.length > 0) inputs.set(edge.inputIndex, combinedWork(from));
  }
  return inputs;
}

// Every channel into an instance ends once; a loop head also waits for the loop's own closing marker.
function expectedEnds(graph: ExecutionGraph, task: TaskSpec, index: number): number {
  let ends = 0;
  let feedback = false;
  for (const edge of graph.edges) {
    if (edge.to !== task.id) continue;
    if (edge.feedback) feedback = true;
    else ends += channelsInto(graph, edge, index);
  }
  return ends + (feedback ? 1 : 0);
}

function channelsInto(graph: ExecutionGraph, edge: EdgeSpec, _index: number): number {
  return edge.partition === "forward" ? 1 : graph.tasks.find((t) => t.id === edge.from)!.parallelism;
}

function createLoopTrackers(build: BuildContext): Map<number, LoopTracker> {
  const { graph, transport } = build;
  const trackers = new Map<number, LoopTracker>();
  for (const loop of graph.loops) {
    const members = new Set(loop.tasks);
    let outside = 0;
    for (const edge of graph.edges) {
      if (!members.has(edge.to) || members.has(edge.from)) continue;
      const target = graph.tasks.find((t) => t.id === edge.to)!;
      for (let i = 0; i < target.parallelism; i++) outside += channelsInto(graph, edge, i);
    }
    const heads = graph.tasks.filter((t) => graph.edges.some((e) => e.feedback && e.to === t.id && members.has(t.id)));
    const closeLoop = () => {
      for (const head of heads) for (let i = 0; i < head.parallelism; i++) closeMarker(transport, head, i);
    };
    trackers.set(loop.id, new LoopTracker(outside, closeLoop));
  }
  return trackers;
}

// The marker travels as an end-of-stream on a pseudo edge with input -1, which no real channel uses.
function closeMarker(transport: Transport, head: TaskSpec, index: number): void {
  const pseudo: EdgeSpec = { id: -1, from: head.id, to: head.id, partition: "forward", inputIndex: -1, feedback: false };
  void transport.sender(pseudo, index, index).end();
}

function routerOutput(build: BuildContext, edge: EdgeSpec, index: number, tracker: LoopTracker | undefined, regionWork: WorkCounter | undefined): RouterOutput {
  const target = build.graph.tasks.find((t) => t.id === edge.to)!;
  const targets = edge.partition === "forward" ? [index] : Array.from({ length: target.parallelism }, (_, i) => i);
  const senders = targets.map((to) => {
    let sender = build.transport.sender(edge, index, to);
    if (edge.loop !== undefined && tracker) sender = trackedSender(sender, tracker);
    // Every task downstream of a served pipeline's task is part of it: each batch is work in flight.
    if (regionWork) sender = trackedSender(sender, regionWork);
    return sender;
  });
  if (edge.partition !== "hash") return { partition: edge.partition, senders };
  return { partition: edge.partition, senders, keyError: keyErrorOf(build, edge, index) };
}

// A hash edge leaves a task that ends with the keyBy whose keys it partitions: that operator failed.
function keyErrorOf(build: BuildContext, edge: EdgeSpec, index: number): (error: unknown) => Error {
  const keyBy = build.graph.tasks.find((t) => t.id === edge.from)!.operators.at(-1)!;
  return (error) => {
    if (error instanceof OperatorError) return error;
    const counters = build.counters.get(keyBy.name)?.[index];
    if (counters) counters.errors++;
    const problem = error instanceof UnhashableKeyError ? error.message : `a key that cannot be hashed: ${messageOf(error)}`;
    return new OperatorError(keyBy.name, new TypeError(`${keyBy.kind} '${keyBy.name}' returned ${problem}`, { cause: error }));
  };
}

// Counts batches sent inside a loop (or a served pipeline) as in-flight work until the receiver has processed them.
function trackedSender(sender: ChannelSender, tracker: WorkCounter): ChannelSender {
  return {
    send(records, keys) {
      tracker.acquire();
      return sender.send(records, keys);
    },
    end: () => sender.end(),
  };
}

interface BuiltStage extends ClosableStage {
  stage: Stage;
}

function createStage(build: BuildContext, op: OperatorSpec, index: number, next: Stage, work: WorkCounter, clock: TaskClock): BuiltStage {
  const transformation = build.env.pipeline[op.fnRef]!;
  const ctx = functionContext(build.scope, op.name, index, op.parallelism);
  const counters = countersFor(build, op, index, clock);
  const env: StageEnv = {
    operator: op.name,
    counters,
    work,
    concurrency: op.concurrency,
    abortSignal: build.taskEnv.abortSignal,
    fail: build.fail,
  };
  return guard(op, () => {
    if (op.kind === "coMap") return coMapStage(env, next, transformation.fn, transformation.options.args, ctx, op.inputCount);
    const reply = op.replies === undefined ? undefined : replySpecOf(transformation.fn);
    const fn = reply ? { instance: undefined, plain: replyFunction(servingOf(build).endpoint(reply.service), reply) } : instantiate(transformation.fn, transformation.options.args, ctx);
    const call = entryPoint(fn) as (...args: any[]) => unknown;
    const hooks = fn.instance;
    const stage = ((): Stage & { close(): Promise<void> } => {
      switch (op.kind) {
        case "map":
          return new MapStage(env, next, hooks, call, ctx);
        case "filter":
          return new FilterStage(env, next, hooks, call, ctx);
        case "flatMap":
          return new FlatMapStage(env, next, hooks, call, ctx, fn.instance !== undefined);
        case "keyBy":
          return new KeyByStage(env, next, hooks, call, ctx);
        case "sink":
          return new SinkStage(env, hooks, call, ctx);
        case "join":
          return new JoinStage(env, next, hooks, call, ctx);
        default:
          throw new TypeError(`operator kind '${op.kind}' cannot run inside a chain`);
      }
    })();
    return { stage, operator: op.name, hooks, close: () => stage.close() };
  });
}

function coMapStage(env: StageEnv, next: Stage, definition: unknown, args: readonly unknown[] | undefined, ctx: FunctionContext, inputs: number): BuiltStage {
  if (Array.isArray(definition)) {
    const stage = new CoMapStage(env, next, undefined, definition as Array<(data: unknown, ctx: FunctionContext) => unknown>, ctx);
    return { stage, operator: env.operator, hooks: undefined, close: () => stage.close() };
  }
  const fn = instantiate(definition, args, ctx);
  const fns = Array.from({ length: inputs }, (_, i) => entryPoint(fn, `map${i}`) as (data: unknown, ctx: FunctionContext) => unknown);
  const stage = new CoMapStage(env, next, fn.instance, fns, ctx);
  return { stage, operator: env.operator, hooks: fn.instance, close: () => stage.close() };
}

function closableOf(op: OperatorSpec, hooks: FunctionHooks | undefined): ClosableStage {
  return { operator: op.name, hooks, close: closeOnce(op.name, hooks) };
}

function countersFor(build: BuildContext, op: OperatorSpec, index: number, clock: TaskClock): OperatorCounters {
  const counters = newCounters(index);
  counters.clock = clock;
  const list = build.counters.get(op.name) ?? [];
  list.push(counters);
  build.counters.set(op.name, list);
  return counters;
}

// A constructor that throws fails the job naming the operator.
function guard<T>(op: OperatorSpec, make: () => T): T {
  try {
    return make();
  } catch (error) {
    throw new OperatorError(op.name, error);
  }
}
