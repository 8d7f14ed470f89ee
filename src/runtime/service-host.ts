import { ServiceCallError, ServiceCallTimeoutError, ServiceNotFoundError, messageOf } from "../api/errors.js";
import type { ServiceFactory } from "../api/service.js";
import type { ServiceContext, ServiceStatus } from "../api/types.js";
import { compileFactory } from "./codegen.js";
import { isThenable } from "./thenable.js";

interface QueuedCall {
  method: (...args: unknown[]) => unknown;
  name: string;
  args: unknown[];
  /** When the call's whole time limit ends (queueing included). */
  deadline: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/** Runs a promise-returning step under a time limit, clearing the timer either way. */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
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
  readonly #gate: CallerGate = { idle: false, calls: 0 };
  readonly #callers = new Map<string, (...args: unknown[]) => unknown>();
  readonly #maxConcurrency: number;

  constructor(
    readonly factory: ServiceFactory,
    private readonly ctx: ServiceContext,
  ) {
    this.#maxConcurrency = Math.max(1, factory.options.maxConcurrency ?? 1);
  }

  /** Calls made so far. */
  get calls(): number {
    return this.#gate.calls;
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
    try {
      // Construction (an async factory too) and setup() share one time limit.
      const start = async () => {
        const instance = (await this.factory.create(this.ctx)) as Record<string, unknown>;
        this.#instance = instance;
        for (const name of callableMethods(instance)) this.#methods.set(name, instance[name] as (...args: unknown[]) => unknown);
        if (typeof instance.setup === "function") await instance.setup();
      };
      await withTimeout(start(), timeoutMs, () => new Error(`setup() did not finish within ${timeoutMs} ms`));
      this.state = "running";
      this.#refreshIdle();
    } catch (error) {
      this.state = "failed";
      throw new Error(`service '${this.name}' failed to start: ${messageOf(error)}`, { cause: error });
    }
  }

  /** Calls a method through the mailbox. */
  call(name: string, args: unknown[], timeoutMs: number): unknown {
    return this.bind(name, timeoutMs)(...args);
  }

  /**
   * A caller of one method, compiled once per method and timeout: what service proxies hold.
   * @remarks The idle path is the per-record hot path of services: no rest array, no promise and
   * no slot for a sync method, since nothing can interleave with a synchronous call; only an async
   * result occupies a mailbox slot until it settles. The caller is generated (see compileCaller)
   * so it calls `instance.method(...)` directly, which V8 inlines like a plain method call.
   */
  bind(name: string, timeoutMs: number): (...args: unknown[]) => unknown {
    if (!this.#methods.has(name)) throw new ServiceNotFoundError(this.name, name, this.methodNames);
    const key = `${name}\u0000${timeoutMs}`;
    let caller = this.#callers.get(key);
    if (!caller) this.#callers.set(key, (caller = compileCaller(name, this.#instance!, this.#gate, this.#slowPaths(name, timeoutMs))));
    return caller;
  }

  // The slow paths of one method's caller: a busy mailbox, a throw, an async result.
  #slowPaths(name: string, timeoutMs: number): CallerSlowPaths {
    return {
      busy: (args) => {
        if (this.state !== "running") throw new ServiceCallError(this.name, name, new Error(`service is ${this.state}`));
        this.#gate.calls++;
        return this.#enqueue(this.#methods.get(name)!, name, args, timeoutMs);
      },
      failed: (error) => new ServiceCallError(this.name, name, error),
      track: (result) => this.#track(result, name, timeoutMs),
    };
  }

  // Idle = running, a free slot and nobody queued: then a call may run directly.
  #refreshIdle(): void {
    this.#gate.idle = this.state === "running" && this.#active < this.#maxConcurrency && this.#queue.length === 0;
  }

  #enqueue(method: (...args: unknown[]) => unknown, name: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const call: QueuedCall = { method, name, args, deadline: performance.now() + timeoutMs, resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
        call.timer = setTimeout(() => {
          const at = this.#queue.indexOf(call);
          if (at >= 0) this.#queue.splice(at, 1);
          this.#refreshIdle();
          reject(new ServiceCallTimeoutError(this.name, name, timeoutMs));
        }, timeoutMs);
      }
      this.#queue.push(call);
      this.#gate.idle = false;
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
      call.reject(new ServiceCallError(this.name, call.name, new Error("service stopped")));
    }
    if (!instance || !wasRunning) return;
    const cleanup = instance.cleanup;
    if (typeof cleanup !== "function") return;
    try {
      await withTimeout(Promise.resolve().then(() => cleanup.call(instance)), timeoutMs, () => new Error(`cleanup() did not finish within ${timeoutMs} ms`));
    } catch (error) {
      this.state = "failed";
      throw new Error(`service '${this.name}' cleanup failed: ${messageOf(error)}`, { cause: error });
    }
  }

  // An async result holds a mailbox slot until it settles; then queued calls may run.
  #track(result: PromiseLike<unknown>, name: string, timeoutMs: number): Promise<unknown> {
    this.#active++;
    this.#refreshIdle();
    const settled = Promise.resolve(result).then(
      (value) => {
        this.#active--;
        this.#dispatch();
        return value;
      },
      (error) => {
        this.#active--;
        this.#dispatch();
        throw new ServiceCallError(this.name, name, error);
      },
    );
    return withTimeout(settled, timeoutMs, () => new ServiceCallTimeoutError(this.name, name, timeoutMs));
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
        try {
          result = call.method.apply(this.#instance, call.args);
        } catch (error) {
          call.reject(new ServiceCallError(this.name, call.name, error));
          continue;
        }
        call.resolve(isThenable(result) ? this.#track(result, call.name, Math.max(1, call.deadline - performance.now())) : result);
      }
    } finally {
      this.#dispatching = false;
      this.#refreshIdle();
    }
  }
}

/** The host state compiled callers read: whether a call may run directly, and the call count. */
interface CallerGate {
  idle: boolean;
  calls: number;
}

/** What a compiled caller does off the idle path. */
interface CallerSlowPaths {
  busy(args: unknown[]): Promise<unknown>;
  failed(error: unknown): Error;
  track(result: PromiseLike<unknown>): Promise<unknown>;
}

// Generated from a fixed template; the method name enters only as a JSON string literal.
function compileCaller(name: string, instance: object, gate: CallerGate, slow: CallerSlowPaths): (...args: unknown[]) => unknown {
  const method = `instance[${JSON.stringify(name)}]`;
  const source = `
    return function callService() {
      if (!gate.idle) return slow.busy(Array.prototype.slice.call(arguments));
      gate.calls++;
      let result;
      try {
        switch (arguments.length) {
          case 0: result = ${method}(); break;
          case 1: result = ${method}(arguments[0]); break;
          case 2: result = ${method}(arguments[0], arguments[1]); break;
          case 3: result = ${method}(arguments[0], arguments[1], arguments[2]); break;
          default: result = ${method}(...arguments);
        }
      } catch (error) {
        throw slow.failed(error);
      }
      return result !== null && typeof result === "object" && typeof result.then === "function" ? slow.track(result) : result;
    };`;
  return compileFactory<(...args: unknown[]) => unknown>(["instance", "gate", "slow"], source)(instance, gate, slow);
}

/** Public methods of a service object: own and inherited functions, minus lifecycle hooks and Object's. */
function callableMethods(instance: object): string[] {
  const names = new Set<string>();
  const hidden = new Set(["constructor", "setup", "cleanup", "ctx", "logger"]);
  for (let proto = instance; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === "BaseService" && Object.getPrototypeOf(proto) === Object.prototype) break;
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (hidden.has(name) || name.startsWith("_") || name.startsWith("#")) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (descriptor && typeof descriptor.value === "function") names.add(name);
    }
  }
  return [...names];
}
