/**
 * Compiles generated source into a factory, once per distinct source text. Reusing the factory
 * matters for speed: closures made by one factory share their code, so call sites in user code
 * and in the runtime stay monomorphic from one job to the next.
 *
 * Callers generate source from fixed templates; user-controlled text may only enter as JSON
 * string literals.
 */
export function compileFactory<F>(parameters: readonly string[], body: string): (...args: unknown[]) => F {
  const key = `${parameters.join(",")}\u0000${body}`;
  let factory = factories.get(key);
  if (!factory) {
    factory = new Function(...parameters, body) as (...args: unknown[]) => unknown;
    factories.set(key, factory);
  }
  return factory as (...args: unknown[]) => F;
}

const factories = new Map<string, (...args: unknown[]) => unknown>();
