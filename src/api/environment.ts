import { DataStream } from "./datastream.js";
import { JobFailedError, JobTimeoutError, PipelineDefinitionError } from "./errors.js";
import { announceJob, claimPipelineIndex, executorFor, type RunningJob } from "./executor.js";
import type { BatchSource, UnboundedSource } from "./function-types.js";
import { declarePipelineService, isPipelineServiceFactory, replySpecOf, type FromServiceOptions, type ServiceRequest } from "./pipeline-service.js";
import { ServiceFactory, type ServiceDefinition, type ServiceOptions } from "./service.js";
import type { Transformation, TransformationKind } from "./transformation.js";
import { TERMINAL_STATES } from "./job-state.js";
import { validateFunction } from "./validate-function.js";
import { validateOperatorOptions, validateSubmitOptions } from "./validate-options.js";
import type { EnvironmentConfig, JobHandle, JobState, JobStatus, OperatorOptions, Platform, SourceOptions, SubmitOptions } from "./types.js";

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
  /** While a submit runs: resolves to its job once that exists (undefined if none was created). */
  #submitting?: Promise<RunningJob | undefined>;

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
    if (!(factory instanceof ServiceFactory)) throw new PipelineDefinitionError(`registerServiceFactory('${name}') needs a ServiceFactory`);
    const existing = this.serviceFactories.get(name);
    if (existing && isPipelineServiceFactory(existing)) {
      throw new PipelineDefinitionError(`service '${name}' is already served by a pipeline (fromService('${name}')); give this service another name`);
    }
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

  /**
   * A pipeline served as the service `name`: registers the service, and returns the stream of
   * its requests. Callers anywhere in the job send one with `ctx.service(name).process(payload)`
   * and get the answer a `replyTo(name)` sink gives that request. With autostop, the source ends
   * once every other part of the job has finished and no request is left; in a job with no other
   * pipeline it serves until the job is stopped (or the service's `close()` is called).
   * @example
   * env.fromService<Order>("orders").map(score).sink(replyTo("orders"));
   * env.fromBatch(orders).map((o, ctx) => ctx.service("orders").process(o)).print();
   */
  fromService<T = unknown>(name: string, options: FromServiceOptions = {}): DataStream<ServiceRequest<T>> {
    if (this.serviceFactories.has(name)) {
      throw new PipelineDefinitionError(`fromService('${name}'): a service named '${name}' is already registered; a served pipeline needs a name of its own`);
    }
    const { source, factory } = declarePipelineService(name, options);
    const stream = this._streamOf<ServiceRequest<T>>(this._addTransformation("source", source, [], { name: options.name ?? name }));
    this.serviceFactories.set(name, factory);
    return stream;
  }

  /** A placeholder stream, closed later by `stream.fillFuture(future)` into a feedback loop. */
  fromFuture<T = any>(name: string): DataStream<T> {
    return this._streamOf<T>(this._addTransformation("future", undefined, [], { name }));
  }

  /**
   * Compiles and starts the pipeline. With `autostop`, resolves only after the job ended and was
   * cleaned up. One job per environment at a time: a submit while another runs (or is still
   * starting) is refused.
   */
  async submit(options: SubmitOptions = {}): Promise<JobHandle> {
    validateSubmitOptions(options, this.name);
    // Claimed before the first await, so two submits in the same tick cannot both pass.
    if (this.#submitting) throw this.#busy(await this.#submitting);
    let resolveSubmitting: ((job: RunningJob | undefined) => void) | undefined;
    this.#submitting = new Promise((resolve) => (resolveSubmitting = resolve));
    // Settles the promise once: both the executor's early callback and submit's own adopt()
    // report the job, and a second resolve, which changes nothing, is still reported to Node's
    // promise hooks ("multipleResolves"): work a cold job would pay for nothing.
    const created = (job: RunningJob | undefined) => {
      resolveSubmitting?.(job);
      resolveSubmitting = undefined;
    };
    const adopt = (job: RunningJob) => {
      this.#job = job;
      this.jobId = job.id;
      created(job);
    };
    try {
      const previous = this.#job;
      if (previous && !(await isTerminal(previous))) throw this.#busy(previous);
      await previous?.release();
      const job = await executorFor(this.platform).start(this, options, { pipelineIndex: claimPipelineIndex(), created: adopt });
      adopt(job);
      announceJob(this, job);
      // A job run in this process tells its state without a status being built (a cold-start cost).
      if ((job.state ?? (await job.status()).state) === "failed") throw new JobFailedError(await job.status());
      if (!options.autostop) return job;
      await waitForAutostop(job, options.timeoutMs);
      return job;
    } finally {
      created(undefined);
      this.#submitting = undefined;
    }
  }

  /**
   * Stops the submitted job (draining it) and cleans up its services; the final status. A job
   * still starting (its services setting up) is stopped too: its submit then ends as stopped.
   */
  async stop(): Promise<JobStatus> {
    const job = await this.#currentJob();
    if (!job) throw new PipelineDefinitionError(`environment '${this.name}' has no submitted job to stop`);
    const status = await job.stop();
    await job.release();
    return job.status().catch(() => status);
  }

  /** Stops the job if it runs (or is starting) and releases everything the environment holds. */
  async close(): Promise<void> {
    const job = await this.#currentJob();
    // A job known to have ended has nothing to stop (and a status built for nobody is a cold-start cost).
    if (job?.state !== undefined && TERMINAL_STATES.has(job.state)) await job.release();
    else if (job) await this.stop();
    this.#job = undefined;
  }

  // The job of a submit still starting (once it exists), else the last submitted one.
  async #currentJob(): Promise<RunningJob | undefined> {
    return (this.#submitting && (await this.#submitting)) || this.#job;
  }

  #busy(job: RunningJob | undefined): PipelineDefinitionError {
    return new PipelineDefinitionError(
      job
        ? `environment '${this.name}' already runs job ${job.id}; stop it or wait for it first`
        : `environment '${this.name}' is already submitting a job; wait for that submit first`,
    );
  }

  /** @internal Records a transformation with a unique name. */
  _addTransformation(kind: TransformationKind, fn: unknown, inputs: Transformation[], options: OperatorOptions): Transformation {
    const baseName = options.name ?? defaultName(kind, fn, this.pipeline.length);
    validateFunction(kind, fn, inputs, baseName);
    validateOperatorOptions(options, baseName);
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
  let state: JobState;
  try {
    state = job.waitForState ? await job.waitForState(timeoutMs) : (await job.wait({ timeoutMs })).state;
  } catch (error) {
    if (!(error instanceof JobTimeoutError)) throw error;
    const stopped = await job.stop({ mode: "abort" });
    throw new JobTimeoutError(stopped, error.timeoutMs);
  }
  if (state === "failed") throw new JobFailedError(await job.status());
}

async function isTerminal(job: RunningJob): Promise<boolean> {
  return TERMINAL_STATES.has((await job.status()).state);
}

// A function's own name when it reads as one (a class, a named or assigned function), else the
// operator's kind and position: an inline lambda has no name, and a bound or generated one an odd one.
function defaultName(kind: TransformationKind, fn: unknown, index: number): string {
  const reply = replySpecOf(fn);
  if (reply) return `replyTo(${reply.service})`;
  const fnName = typeof fn === "function" ? fn.name.replace(/^(bound )+/, "") : "";
  return IDENTIFIER.test(fnName) && fnName !== "anonymous" ? fnName : `${kind}#${index}`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
