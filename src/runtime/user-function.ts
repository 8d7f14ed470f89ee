import { constructWithContext } from "../api/context.js";
import { OperatorError } from "../api/errors.js";
import { isClass } from "../api/service.js";
import type { FunctionContext } from "../api/types.js";

/** The optional lifecycle hooks of a function-class instance. */
export interface FunctionHooks {
  open?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** A user function made ready for one operator instance. */
export interface UserFunction {
  /** The class instance, when the user gave a class. */
  instance: (FunctionHooks & Record<string, any>) | undefined;
  /** The plain function, when the user gave one. */
  plain: ((...args: any[]) => unknown) | undefined;
}

/** Constructs a function class for one instance (with `ctx` injected) or keeps a plain function. */
export function instantiate(definition: unknown, args: readonly unknown[] | undefined, ctx: FunctionContext): UserFunction {
  if (typeof definition === "function" && isClass(definition)) {
    const Class = definition as new (...args: unknown[]) => FunctionHooks & Record<string, any>;
    return { instance: constructWithContext(ctx, () => new Class(...(args ?? []))), plain: undefined };
  }
  return { instance: undefined, plain: definition as (...args: any[]) => unknown };
}

/** A callable `execute`-style entry point: the bound class method, or the plain function. */
export function entryPoint(fn: UserFunction, method = "execute"): (...args: any[]) => unknown {
  if (fn.instance) {
    const bound = fn.instance[method];
    if (typeof bound !== "function") throw new TypeError(`${fn.instance.constructor.name} has no ${method}() method`);
    return bound.bind(fn.instance);
  }
  return fn.plain!;
}

/**
 * A function's `close()`, run at most once; what it throws is tagged with the operator's name and
 * goes to the first caller. Later callers wait for that same close() to end, without its error.
 */
export function closeOnce(operator: string, hooks: FunctionHooks | undefined, onError: () => void = () => {}): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    if (closing) return closing.catch(() => undefined);
    closing = (async () => {
      try {
        await hooks?.close?.();
      } catch (error) {
        onError();
        throw error instanceof OperatorError ? error : new OperatorError(operator, error);
      }
    })();
    return closing;
  };
}
