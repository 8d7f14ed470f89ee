import { ServiceCallError, ServiceCallTimeoutError, ServiceNotFoundError, messageOf } from "../api/errors.js";
import type { ServiceFactory } from "../api/service.js";
import type { ServiceContext, ServiceStatus } from "../api/types.js";
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
  calls = 0;
  #instance: Record<string, unknown> | undefined;
  readonly #methods = new Map<string, (...args: unknown[]) => unknown>();
  readonly #queue: QueuedCall[] = [];
  #active = 0;
  #dispatching = false;
  readonly #maxConcurrency: number;

  constructor(
    readonly factory: ServiceFactory,
    private readonly ctx: ServiceContext,
  ) {
    this.#maxConcurrency = Math.max(1, factory.options.maxConcurrency ?? 1);
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
    } catch (error) {
      this.state = "failed";
      throw new Error(`service '${this.name}' failed to start: ${messageOf(error)}`, { cause: error });
    }
  }

  /** Calls a method through the mailbox. */
  call(name: string, args: unknown[], timeoutMs: number): unknown {
    return this.bind(name, timeoutMs)(...args);
  }

  /** A caller of one method, resolved once: what service proxies hold for their known methods. */
  bind(name: string, timeoutMs: number): (...args: unknown[]) => unknown {
    const method = this.#methods.get(name);
    if (method === undefined) throw new ServiceNotFoundError(this.name, name, this.methodNames);
    return (...args: unknown[]) => {
      if (this.state !== "running") throw new ServiceCallError(this.name, name, new Error(`service is ${this.state}`));
      this.calls++;
      if (this.#active < this.#maxConcurrency && this.#queue.length === 0) return this.#run(method, name, args, timeoutMs);
      return this.#enqueue(method, name, args, timeoutMs);
    };
  }

  #enqueue(method: (...args: unknown[]) => unknown, name: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const call: QueuedCall = { method, name, args, deadline: performance.now() + timeoutMs, resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
        call.timer = setTimeout(() => {
          const at = this.#queue.indexOf(call);
          if (at >= 0) this.#queue.splice(at, 1);
          reject(new ServiceCallTimeoutError(this.name, name, timeoutMs));
        }, timeoutMs);
      }
      this.#queue.push(call);
    });
  }

  /** Awaits cleanup() under `timeoutMs`; the host is stopped afterwards whatever happened. */
  async cleanup(timeoutMs: number): Promise<void> {
    const instance = this.#instance;
    const wasRunning = this.state === "running";
    this.state = "stopped";
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

  #run(method: (...args: unknown[]) => unknown, name: string, args: unknown[], timeoutMs: number): unknown {
    this.#active++;
    let result: unknown;
    try {
      result = method.apply(this.#instance, args);
    } catch (error) {
      this.#settled();
      throw new ServiceCallError(this.name, name, error);
    }
    if (!isThenable(result)) {
      this.#settled();
      return result;
    }
    const settled = Promise.resolve(result).then(
      (value) => {
        this.#settled();
        return value;
      },
      (error) => {
        this.#settled();
        throw new ServiceCallError(this.name, name, error);
      },
    );
    return withTimeout(settled, timeoutMs, () => new ServiceCallTimeoutError(this.name, name, timeoutMs));
  }

  #settled(): void {
    this.#active--;
    // A sync call run from the queue settles inside #run and lands here again: the outer loop
    // keeps dispatching, so thousands of queued sync calls do not grow the stack.
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      while (this.#active < this.#maxConcurrency && this.#queue.length > 0) {
        const call = this.#queue.shift()!;
        clearTimeout(call.timer);
        try {
          call.resolve(this.#run(call.method, call.name, call.args, Math.max(1, call.deadline - performance.now())));
        } catch (error) {
          call.reject(error);
        }
      }
    } finally {
      this.#dispatching = false;
    }
  }
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
