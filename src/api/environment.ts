import { DataStream } from "./datastream.js";
import { JobFailedError, JobTimeoutError, PipelineDefinitionError } from "./errors.js";
import { announceJob, claimPipelineIndex, executorFor, type RunningJob } from "./executor.js";
import type { BatchSource, UnboundedSource } from "./function-types.js";
import { ServiceFactory, type ServiceDefinition, type ServiceOptions } from "./service.js";
import type { Transformation, TransformationKind } from "./transformation.js";
import { validateFunction } from "./validate-function.js";
import type { EnvironmentConfig, JobHandle, JobStatus, OperatorOptions, Platform, SourceOptions, SubmitOptions } from "./types.js";

/** What every environment shares: the pipeline being declared, its services, and submit/stop/close. */
export abstract class BaseEnvironment {
  /** The job's name. */
  readonly name: string;
  /** Free-form settings; see {@link EnvironmentConfig} for the keys the runtime reads. */
  readonly config: EnvironmentConfig;
  /** The id of the last submitted job. */
  jobId?: string;
  /** @internal The declared transformations, in declaration order. */
  readonly pipeline: Transformation[] = [];
  /** @internal Registered services, in registration order. */
  readonly serviceFactories = new Map<string, ServiceFactory>();
  readonly #names = new Set<string>();
  #job?: RunningJob;

  constructor(name: string, config: EnvironmentConfig = {}) {
    this.name = name;
    this.config = { ...config };
  }

  /** Where this environment's jobs run. */
  abstract get platform(): Platform;

  /** Registers a service: a BaseService subclass (constructed with `options.args`) or a factory `(ctx) => object`. */
  registerService(name: string, service: ServiceDefinition, options: ServiceOptions = {}): ServiceFactory {
    return this.registerServiceFactory(name, new ServiceFactory(name, service, options));
  }

  /** Registers a prepared factory; registering a name again replaces it. */
  registerServiceFactory(name: string, factory: ServiceFactory): ServiceFactory {
    if (!(factory instanceof ServiceFactory)) throw new TypeError(`registerServiceFactory('${name}') needs a ServiceFactory`);
    this.serviceFactories.set(name, factory.name === name ? factory : new ServiceFactory(name, factory.definition, factory.options));
    return this.serviceFactories.get(name)!;
  }

  /**
   * A bounded source: an array, any iterable or async iterable, a (sync or async) generator
   * function, or a BatchFunction class. The job finishes when every bounded source is exhausted.
   * @example
   * env.fromBatch(["a", "b"]).map((s) => s.toUpperCase()).print();
   */
  fromBatch<T>(source: BatchSource<T>, options: SourceOptions = {}): DataStream<T> {
    return this._streamOf<T>(this._addTransformation("batch", source, [], options));
  }

  /** A bounded source from an array (the original's name, kept for SAGE users). */
  fromCollection<T>(items: BatchSource<T>, options: SourceOptions = {}): DataStream<T> {
    return this.fromBatch(items, options);
  }

  /**
   * An unbounded source: a SourceFunction class, an async iterable or a generator function.
   * It runs until the job is stopped, unless it ends its own stream (END_OF_STREAM, or the iterable returns).
   */
  fromSource<T>(source: UnboundedSource<T>, options: SourceOptions = {}): DataStream<T> {
    return this._streamOf<T>(this._addTransformation("source", source, [], options));
  }

  /** A placeholder stream, closed later by `stream.fillFuture(future)` into a feedback loop. */
  fromFuture<T = any>(name: string): DataStream<T> {
    return this._streamOf<T>(this._addTransformation("future", undefined, [], { name }));
  }

  /** Compiles and starts the pipeline. With `autostop`, resolves only after the job ended and was cleaned up. */
  async submit(options: SubmitOptions = {}): Promise<JobHandle> {
    if (this.#job && !(await isTerminal(this.#job))) {
      throw new PipelineDefinitionError(`environment '${this.name}' already runs job ${this.#job.id}; stop it or wait for it first`);
    }
    await this.#job?.release();
    const job = await executorFor(this.platform).start(this, options, { pipelineIndex: claimPipelineIndex() });
    this.#job = job;
    this.jobId = job.id;
    announceJob(this, job);
    const status = await job.status();
    if (status.state === "failed") throw new JobFailedError(status);
    if (!options.autostop) return job;
    await waitForAutostop(job, options.timeoutMs);
    return job;
  }

  /** Stops the submitted job (draining it) and cleans up its services; the final status. */
  async stop(): Promise<JobStatus> {
    const job = this.#job;
    if (!job) throw new PipelineDefinitionError(`environment '${this.name}' has no submitted job to stop`);
    const status = await job.stop();
    await job.release();
    return job.status().catch(() => status);
  }

  /** Stops the job if it runs and releases everything the environment holds. */
  async close(): Promise<void> {
    if (this.#job) await this.stop();
    this.#job = undefined;
  }

  /** @internal Records a transformation with a unique name. */
  _addTransformation(kind: TransformationKind, fn: unknown, inputs: Transformation[], options: OperatorOptions): Transformation {
    const baseName = options.name ?? defaultName(kind, fn);
    validateFunction(kind, fn, inputs, baseName);
    validateOptions(options, baseName);
    const transformation: Transformation = {
      id: this.pipeline.length,
      kind,
      name: this.#uniqueName(baseName),
      fn,
      inputs,
      options: { ...options },
    };
    this.pipeline.push(transformation);
    return transformation;
  }

  /** @internal */
  _streamOf<T>(transformation: Transformation): DataStream<T> {
    return new DataStream<T>(this, transformation);
  }

  #uniqueName(base: string): string {
    let name = base;
    for (let n = 1; this.#names.has(name); n++) name = `${base}_${n}`;
    this.#names.add(name);
    return name;
  }
}

/** Waits for the autostop end: resolves when finished or stopped, rejects on failure or timeout. */
async function waitForAutostop(job: RunningJob, timeoutMs: number | undefined): Promise<void> {
  let status: JobStatus;
  try {
    status = await job.wait({ timeoutMs });
  } catch (error) {
    if (!(error instanceof JobTimeoutError)) throw error;
    const stopped = await job.stop({ mode: "abort" });
    throw new JobTimeoutError(stopped, error.timeoutMs);
  }
  if (status.state === "failed") throw new JobFailedError(status);
}

async function isTerminal(job: RunningJob): Promise<boolean> {
  const { state } = await job.status();
  return state === "finished" || state === "stopped" || state === "failed";
}

const KIND_NAMES: Record<TransformationKind, string> = {
  batch: "Batch",
  source: "Source",
  map: "Map",
  filter: "Filter",
  flatMap: "FlatMap",
  keyBy: "KeyBy",
  sink: "Sink",
  coMap: "CoMap",
  join: "Join",
  future: "Future",
};

function defaultName(kind: TransformationKind, fn: unknown): string {
  const fnName = typeof fn === "function" ? fn.name : "";
  return fnName && fnName !== "anonymous" ? fnName : KIND_NAMES[kind];
}

function validateOptions(options: OperatorOptions, name: string): void {
  for (const key of ["parallelism", "concurrency"] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new PipelineDefinitionError(`operator '${name}': ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (options.args !== undefined && !Array.isArray(options.args)) {
    throw new PipelineDefinitionError(`operator '${name}': args must be an array`);
  }
}
