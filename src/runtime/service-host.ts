import { ServiceCallError, ServiceCallTimeoutError, ServiceNotFoundError, messageOf, withCauseFrames } from "../api/errors.js";
import type { ServiceFactory } from "../api/service.js";
import type { ServiceContext, ServiceStatus } from "../api/types.js";
import { compileFactory } from "./codegen.js";
import { MetricsSampler, type ServiceMetrics } from "./service-metrics.js";
import { createProxyBase } from "./service-proxy.js";
import { isThenable, timerMs } from "./thenable.js";
import { LatencyHistogram } from "./latency-histogram.js";
import { monotonicMs } from "./monotonic-clock.js";

interface QueuedCall {
  method: (...args: unknown[]) => unknown;
  name: string;
  args: unknown[];
  /** When the caller made it: its latency includes the wait for a turn. */
  queuedAt: number;
  /** When the call's whole time limit ends (queueing included). */
  deadline: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A promise a service method returns may carry a function under this key: the host calls it when
 * the caller stops waiting (its call timed out), so the service can drop work nobody will read.
 */
export const CALL_ABANDONED: unique symbol = Symbol.for("sage.callAbandoned");

/** Runs a promise-returning step under a time limit, clearing the timer either way. */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timerMs(ms));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * One live service instance behind a mailbox: at most `maxConcurrency` calls run at once (one by
 * default, like an actor); the rest queue in order. A sync method of an idle service is called
 * directly and its value returned as is.
 */
export class ServiceHost {
  state: ServiceStatus["state"] = "starting";
  #instance: Record<string, unknown> | undefined;
  readonly #methods = new Map<string, (...args: unknown[]) => unknown>();
  readonly #queue: QueuedCall[] = [];
  #active = 0;
  #dispatching = false;
  /** Plain data the compiled callers read and bump: kept as fields for the fastest access. */
  #idle = false;
  #calls = 0;
  /** One per proxy: what its compiled callers read and bump, kept flat for the fastest access. */
  readonly #callerStates: CallerState[] = [];
  readonly #maxConcurrency: number;
  readonly #metrics: MetricsSampler;
  #errors = 0;
  /**
   * Latency of answered calls as their callers see them (not the fast path's sync answers: see
   * ServiceStatus.latency); created at the first timed answer, as a service answered only on the
   * fast path (or never called) has none to count.
   */
  #latency: LatencyHistogram | undefined;

  constructor(
    readonly factory: ServiceFactory,
    private readonly ctx: ServiceContext,
  ) {
    this.#maxConcurrency = Math.max(1, factory.options.maxConcurrency ?? 1);
    this.#metrics = new MetricsSampler(ctx.logger);
  }

  /**
   * The counters the service publishes, sampled now while it runs (outside its mailbox: reading
   * counters needs no turn); before and after, the last values sampled, kept once it is gone.
   */
  sampleMetrics(): ServiceMetrics | undefined {
    return this.state === "running" && this.#instance ? this.#metrics.sample(this.#instance) : this.#metrics.last;
  }

  /** How its calls go: failures, running and queued calls, and their latency. */
  sampleCalls(): ServiceCallStats {
    return { errors: this.#errors, inFlight: this.#active, queued: this.#queue.length, latency: this.#latency };
  }

  /** Calls made so far. */
  get calls(): number {
    let calls = this.#calls;
    for (const state of this.#callerStates) calls += state.calls;
    return calls;
  }

  /** The service's name. */
  get name(): string {
    return this.factory.name;
  }

  /** Method names callable on the instance (known after setup). */
  get methodNames(): string[] {
    return [...this.#methods.keys()];
  }

  /** Creates the instance and awaits its setup() under `timeoutMs`. */
  async setup(timeoutMs: number): Promise<void> {
    // Construction (an async factory too) and setup() share one time limit, timed only when one of them awaits something.
    const started = this.#start();
    if (started !== undefined) {
      try {
        await withTimeout(started, timeoutMs, () => new Error(`setup() did not finish within ${timeoutMs} ms`));
      } catch (error) {
        this.state = "failed";
        // A setup that finishes after its time limit (or fails half way) may hold resources: clean up.
        void started.then(
          () => this.#cleanupQuietly(timeoutMs),
          () => this.#cleanupQuietly(timeoutMs),
        );
        throw withCauseFrames(new Error(`service '${this.name}' failed to start: ${messageOf(error)}`, { cause: error }), error);
      }
    }
    if (this.state !== "starting") {
      // The job ended while this service was starting: it never serves, it only cleans up.
      await this.#cleanupQuietly(timeoutMs);
      throw new Error(`service '${this.name}' was stopped while it started`);
    }
    this.state = "running";
    this.#refreshIdle();
  }

  /**
   * Creates the instance and calls its setup(): what is left of both as a promise, or undefined
   * when both finished at once (a class with no setup() or a sync one). A throw is a rejection.
   */
  #start(): Promise<unknown> | undefined {
    try {
      // A factory of another copy of this package (a job's bundle carries its own) may predate instantiate().
      const instantiate = (this.factory as { instantiate?: ServiceFactory["instantiate"] }).instantiate;
      const made = typeof instantiate === "function" ? instantiate.call(this.factory, this.ctx) : this.factory.create(this.ctx);
      return isThenable(made) ? Promise.resolve(made as PromiseLike<object>).then((instance) => this.#adopt(instance)) : this.#adopt(made);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #adopt(made: object): Promise<unknown> | undefined {
    const instance = made as Record<string, unknown>;
    this.#instance = instance;
    for (const name of callableMethods(instance)) this.#methods.set(name, instance[name] as (...args: unknown[]) => unknown);
    if (typeof instance.setup !== "function") return undefined;
    const done: unknown = instance.setup();
    return isThenable(done) ? Promise.resolve(done) : undefined;
  }

  async #cleanupQuietly(timeoutMs: number): Promise<void> {
    const instance = this.#instance;
    if (!instance || typeof instance.cleanup !== "function") return;
    try {
      await withTimeout(Promise.resolve().then(() => (instance.cleanup as () => unknown).call(instance)), timeoutMs, () => new Error("cleanup() timed out"));
    } catch (error) {
      this.ctx.logger.warn("cleanup of service '%s' after a failed start failed: %s", this.name, messageOf(error));
    }
  }

  /**
   * Calls a method by name through the mailbox (the path of `callService`, and of a proxy's call
   * when the fast path is closed: a busy service).
   */
  call(name: string, args: unknown[], timeoutMs: number): unknown {
    const method = this.#methods.get(name);
    if (method === undefined) throw new ServiceNotFoundError(this.name, name, this.methodNames);
    if (!this.#idle) return this.enqueueCall(name, args, timeoutMs);
    this.#calls++;
    const startedAt = monotonicMs();
    let result: unknown;
    let thenable: boolean;
    try {
      result = method.apply(this.#instance, args);
      thenable = isThenable(result); // a `then` that throws when read fails the call
    } catch (error) {
      throw this.callFailed(name, error);
    }
    // Like the proxies' fast path: a sync answer of an idle service is not timed (see ServiceStatus.latency).
    return thenable ? this.trackCall(result as PromiseLike<unknown>, name, timeoutMs, startedAt) : result;
  }

  #record(startedAt: number): void {
    (this.#latency ??= new LatencyHistogram()).recordMs(monotonicMs() - startedAt);
  }

  /**
   * The object `ctx.service(name)` returns: one own property per method, each a caller shared by
   * every proxy of every job (see methodCaller), reading this host's state from the proxy.
   * @remarks Proxies of one service class share a hidden class and their callers share one
   * function, so `kv.get(k)` in user code stays monomorphic from job to job and V8 inlines it.
   */
  createProxy(timeoutMs: number): Record<string, unknown> {
    const proxy = createProxyBase(this.name, (method, args) => this.call(method, args, timeoutMs)) as Record<string | symbol, unknown>;
    const state: CallerState = { instance: this.#instance!, idle: this.#idle, calls: 0, host: this, timeoutMs };
    this.#callerStates.push(state);
    proxy[CALLER_STATE] = state;
    for (const [name, method] of this.#methods) proxy[name] = methodCaller(name, method.length);
    return proxy as Record<string, unknown>;
  }

  /** @internal A call that must wait for the mailbox (or fails if the service is not running). */
  enqueueCall(name: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.state !== "running") throw new ServiceCallError(this.name, name, new Error(`service is ${this.state}`));
    this.#calls++;
    return this.#enqueue(this.#methods.get(name)!, name, args, timeoutMs);
  }

  /** @internal Wraps what a method threw; counts it. */
  callFailed(name: string, error: unknown): ServiceCallError {
    this.#errors++;
    return new ServiceCallError(this.name, name, error);
  }

  /** @internal An async result holds a mailbox slot until it settles; then queued calls may run. */
  trackCall(result: PromiseLike<unknown>, name: string, timeoutMs: number, startedAt = monotonicMs()): Promise<unknown> {
    this.#active++;
    this.#refreshIdle();
    // A call its caller gave up on (timed out) counted its error then: what comes later is not news.
    let timedOut = false;
    const settled = Promise.resolve(result).then(
      (value) => {
        this.#active--;
        if (!timedOut) this.#record(startedAt);
        this.#dispatch();
        return value;
      },
      (error) => {
        this.#active--;
        if (!timedOut) this.#errors++;
        this.#dispatch();
        throw new ServiceCallError(this.name, name, error);
      },
    );
    return withTimeout(settled, timeoutMs, () => {
      timedOut = true;
      this.#errors++;
      const abandoned = (result as { [CALL_ABANDONED]?: unknown })[CALL_ABANDONED];
      if (typeof abandoned === "function") abandoned.call(result);
      return new ServiceCallTimeoutError(this.name, name, timeoutMs);
    });
  }

  // Idle = running, a free slot and nobody queued: then a call may run directly.
  #refreshIdle(): void {
    this.#setIdle(this.state === "running" && this.#active < this.#maxConcurrency && this.#queue.length === 0);
  }

  #setIdle(idle: boolean): void {
    this.#idle = idle;
    for (const state of this.#callerStates) state.idle = idle;
  }

  #enqueue(method: (...args: unknown[]) => unknown, name: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const queuedAt = monotonicMs();
      const call: QueuedCall = { method, name, args, queuedAt, deadline: queuedAt + timeoutMs, resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
        call.timer = setTimeout(() => {
          const at = this.#queue.indexOf(call);
          if (at >= 0) this.#queue.splice(at, 1);
          this.#errors++;
          this.#refreshIdle();
          reject(new ServiceCallTimeoutError(this.name, name, timeoutMs));
        }, timeoutMs);
      }
      this.#queue.push(call);
      this.#setIdle(false);
    });
  }

  /** Awaits cleanup() under `timeoutMs`; the host is stopped afterwards whatever happened. */
  async cleanup(timeoutMs: number): Promise<void> {
    const instance = this.#instance;
    const wasRunning = this.state === "running";
    this.state = "stopped";
    this.#refreshIdle();
    for (const call of this.#queue.splice(0)) {
      clearTimeout(call.timer);
      this.#errors++;
      call.reject(new ServiceCallError(this.name, call.name, new Error("service stopped")));
    }
    if (!instance || !wasRunning) return;
    // Sampled as it stops serving, and again once cleanup() ran (which may count a last flush):
    // the job's final status keeps these values.
    this.#metrics.sample(instance);
    const cleanup = instance.cleanup;
    try {
      if (typeof cleanup === "function") {
        await withTimeout(Promise.resolve().then(() => cleanup.call(instance)), timeoutMs, () => new Error(`cleanup() did not finish within ${timeoutMs} ms`));
      }
    } catch (error) {
      this.state = "failed";
      throw new Error(`service '${this.name}' cleanup failed: ${messageOf(error)}`, { cause: error });
    } finally {
      await this.#metrics.sampleFinal(instance);
    }
  }

  // Runs queued calls in order while slots are free; a sync one settles at once and the loop goes on.
  #dispatch(): void {
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      while (this.#active < this.#maxConcurrency && this.#queue.length > 0) {
        const call = this.#queue.shift()!;
        clearTimeout(call.timer);
        let result: unknown;
        let thenable: boolean;
        try {
          result = call.method.apply(this.#instance, call.args);
          // Read here, not below: a `then` that throws when read fails this call, and only this one.
          thenable = isThenable(result);
        } catch (error) {
          call.reject(this.callFailed(call.name, error));
          continue;
        }
        if (thenable) {
          call.resolve(this.trackCall(result as PromiseLike<unknown>, call.name, Math.max(1, call.deadline - monotonicMs()), call.queuedAt));
        } else {
          this.#record(call.queuedAt);
          call.resolve(result);
        }
      }
    } finally {
      this.#dispatching = false;
      this.#refreshIdle();
    }
  }
}

/** How a service's calls go, for its status. */
export interface ServiceCallStats {
  errors: number;
  inFlight: number;
  queued: number;
  latency: LatencyHistogram | undefined;
}

/** What a proxy holds for its method callers; one shape for every proxy. */
interface CallerState {
  instance: object;
  /** Whether a call may run directly (the host keeps this in step). */
  idle: boolean;
  /** Calls made through this proxy's fast path. */
  calls: number;
  host: ServiceHost;
  timeoutMs: number;
}

const CALLER_STATE = Symbol("callerState");

/**
 * Whether `proxy` (from `ctx.service(name)`) reaches an instance in this process, whose methods
 * may return what cannot be copied to another process (an iterator, a function, a live object).
 */
export function isInProcessProxy(proxy: object): boolean {
  return CALLER_STATE in proxy;
}

function detached(name: string): Error {
  return new TypeError(`service method ${name}() was called without its proxy: call it as proxy.${name}(...)`);
}

/**
 * A caller's way out of its fast path: a call without its proxy (no state `s`), to a busy
 * service, or with another argument count than the method declares.
 */
function callSlowly(s: CallerState | undefined, name: string, args: ArrayLike<unknown>): unknown {
  if (s === undefined) throw detached(name);
  return s.host.call(name, Array.prototype.slice.call(args), s.timeoutMs);
}

/**
 * What a fast call that returned an object hands back: a thenable is tracked (mailbox slot, time
 * limit), anything else as is. A `then` that throws when read fails the call, as a throw would.
 */
function trackIfThenable(s: CallerState, result: object, name: string): unknown {
  let then: unknown;
  try {
    then = (result as { then?: unknown }).then;
  } catch (error) {
    throw s.host.callFailed(name, error);
  }
  return typeof then === "function" ? s.host.trackCall(result as PromiseLike<unknown>, name, s.timeoutMs) : result;
}

// One caller per method name and arity for the whole process, generated from a fixed template;
// the name enters only as a JSON string literal. The fast path takes exactly the method's
// declared parameters; any other call goes the general way.
// Small on purpose: every record of a short job runs it unoptimized at first, V8 optimizes a
// small function sooner, and an optimizing compile of the loop that inlines it (twice for a
// get + put) finishes sooner. The rare paths are calls out to the helpers above.
// Strict mode: until V8 optimizes the caller, every call builds its `arguments` object, and a
// strict one (unmapped, no aliasing of the parameters) is cheaper to build than a sloppy one.
function methodCaller(name: string, arity: number): (...args: unknown[]) => unknown {
  const key = `${arity}:${name}`;
  let caller = callers.get(key);
  if (caller) return caller;
  const literal = JSON.stringify(name);
  const params = Array.from({ length: Math.min(arity, 6) }, (_, i) => `a${i}`).join(", ");
  const source = `
    "use strict";
    return function callService(${params}) {
      const s = this?.[STATE];
      if (s === undefined || !s.idle || arguments.length !== ${arity > 6 ? -1 : arity}) return callSlowly(s, ${literal}, arguments);
      s.calls++;
      let result;
      try {
        result = s.instance[${literal}](${params});
      } catch (error) {
        throw s.host.callFailed(${literal}, error);
      }
      return typeof result === "object" && result !== null ? trackIfThenable(s, result, ${literal}) : result;
    };`;
  caller = compileFactory<(...args: unknown[]) => unknown>(["STATE", "callSlowly", "trackIfThenable"], source)(CALLER_STATE, callSlowly, trackIfThenable);
  callers.set(key, caller);
  return caller;
}

const callers = new Map<string, (...args: unknown[]) => unknown>();

/** Public methods of a service object: own and inherited functions, minus lifecycle hooks and Object's. */
function callableMethods(instance: object): string[] {
  const names = new Set<string>();
  const hidden = new Set(["constructor", "setup", "cleanup", "ctx", "logger"]);
  for (let proto = instance; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === "BaseService" && Object.getPrototypeOf(proto) === Object.prototype) break;
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (hidden.has(name) || name.startsWith("_")) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (descriptor && typeof descriptor.value === "function") names.add(name);
    }
  }
  return [...names];
}
