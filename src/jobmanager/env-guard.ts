/**
 * A job module runs again in the job process, with the server's environment rather than the
 * client's. When it reads a variable that is unset here but was set where it was submitted, that
 * is almost always a value the client meant to pass: say so once per variable, on the job's log.
 */

/** The variable through which a client names (never values) the variables set in its environment. */
export const CLIENT_ENV_NAMES = "SAGE_CLIENT_ENV_NAMES";

// Read by the framework, Node and terminal libraries themselves, not by the user's pipeline.
const IGNORED = /^(SAGE_|NODE_|npm_|TS_|TSX_|ESBUILD_)|^(FORCE_COLOR|NO_COLOR|TERM|COLORTERM|CI|DEBUG|TZ|LANG|LC_.*|COLUMNS|LINES)$/;

/** The names a client sends with its job: what its environment sets, minus what the job is given anyway. */
export function clientEnvNames(env: NodeJS.ProcessEnv, passed: Record<string, string> = {}): string {
  return JSON.stringify(Object.keys(env).filter((name) => !IGNORED.test(name) && !(name in passed)).sort());
}

/**
 * Wraps `process.env` so that reading a variable the client had set but this process lacks
 * writes one warning to stderr. `names` is the JSON list the client sent (nothing happens without it).
 */
export function installEnvGuard(names: string | undefined, warn: (text: string) => void = (text) => process.stderr.write(text)): void {
  if (!names) return;
  let client: Set<string>;
  try {
    client = new Set((JSON.parse(names) as unknown[]).filter((name): name is string => typeof name === "string"));
  } catch {
    return;
  }
  const warned = new Set<string>();
  const check = (target: NodeJS.ProcessEnv, key: string | symbol) => {
    if (typeof key !== "string" || !client.has(key) || warned.has(key) || Object.prototype.hasOwnProperty.call(target, key)) return;
    warned.add(key);
    warn(`[sage] the job read $${key}, which is set on the client but not in the job: pass it with --env ${key}=... (or RemoteEnvironment({ env }))\n`);
  };
  process.env = new Proxy(process.env, {
    get(target, key, receiver) {
      check(target, key);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      check(target, key);
      return Reflect.has(target, key);
    },
  });
}
