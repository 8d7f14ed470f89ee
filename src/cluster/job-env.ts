/**
 * Which environment variables a driver may give its job's code on the workers (config.env). A job
 * host starts with them over the worker's own environment, so a name that changes how node or the
 * host itself runs would let a request run code before, or instead of, the job's bundle.
 */

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// NODE_OPTIONS --import / --require, NODE_PATH, preloaded shared libraries, an OpenSSL config
// that loads engines, the PATH the host's children are found on, and the host's own settings.
const REFUSED = /^(NODE_|LD_|DYLD_|OPENSSL_|SAGE_)|^PATH$/i;

/** What is wrong with one variable of a job's environment; undefined when it may be passed. */
export function jobEnvProblem(name: string, value: unknown): string | undefined {
  if (!NAME.test(name)) return `'${name}' is not a variable name (letters, digits and _, not starting with a digit)`;
  if (REFUSED.test(name)) return `'${name}' is not allowed: NODE_*, LD_*, DYLD_*, OPENSSL_*, SAGE_* and PATH change how node or the job host runs`;
  if (typeof value !== "string") return `'${name}' must have a string value`;
  return undefined;
}

/** The first problem of a job's environment (an object of variables); undefined when it may be passed. */
export function jobEnvProblems(env: unknown): string | undefined {
  if (env === null || typeof env !== "object" || Array.isArray(env)) return "it must be an object of environment variables";
  for (const [name, value] of Object.entries(env)) {
    const problem = jobEnvProblem(name, value);
    if (problem) return problem;
  }
  return undefined;
}
