import { createLogger } from "./logger.js";
import type { FunctionContext, ServiceContext } from "./types.js";

// The runtime sets this slot just before it constructs a user class, so that `this.ctx`
// already works inside the constructor (the original injected ctx before __init__ too).
let pendingContext: ServiceContext | undefined;

/** Constructs `make()` with `ctx` visible to BaseFunction/BaseService constructors. */
export function constructWithContext<T>(ctx: ServiceContext, make: () => T): T {
  const previous = pendingContext;
  pendingContext = ctx;
  try {
    return make();
  } finally {
    pendingContext = previous;
  }
}

/** The context a base-class constructor should adopt: the pending one, or a detached one. */
export function adoptContext(ownerName: string): FunctionContext {
  const ctx = pendingContext;
  pendingContext = undefined; // only the outermost constructed object takes it
  return (ctx as FunctionContext | undefined) ?? detachedContext(ownerName);
}

/** A context for objects built outside a running job (e.g. in unit tests); service calls fail clearly. */
export function detachedContext(name: string): FunctionContext {
  const notRunning = (service: string): never => {
    throw new Error(`'${name}' is not part of a running job, so it cannot call service '${service}'`);
  };
  return {
    name,
    jobId: "",
    instanceIndex: 0,
    parallelism: 1,
    logger: createLogger(name),
    signal: new AbortController().signal,
    service: (service: string) => notRunning(service),
    callService: (service: string) => notRunning(service),
  };
}
