import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";

const LAYERS = ["api", "runtime", "graph", "jobmanager", "cli"];

/**
 * The frames of a failure worth showing: the user's, in order, then one line counting the frames
 * of SAGE's own modules, of generated code (`new Function`, eval) and of Node's internals that
 * were left out. The message lines of `stack` are dropped: the caller prints the message once.
 * A job's frames point into its job directory on the JobManager (`.../jobs/<id>/`): with `jobId`
 * they are shown relative to it, as the paths the client knows.
 */
export function userFrames(stack: string | undefined, options: { jobId?: string; indent?: string } = {}): string[] {
  if (!stack) return [];
  const indent = options.indent ?? "    ";
  const jobDir = options.jobId ? new RegExp(`[^\\s(]*[\\\\/]jobs[\\\\/]${options.jobId}[\\\\/]`, "g") : undefined;
  // For a bug report on SAGE itself, every frame.
  const all = process.env[FULL_STACK_VARIABLE] === "full";
  const shown: string[] = [];
  let hidden = 0;
  for (const line of stack.split("\n")) {
    const frame = /^\s+at (.*)$/.exec(line)?.[1];
    if (frame === undefined) continue;
    if (!all && isFrameworkFrame(frame)) hidden++;
    else shown.push(`${indent}at ${jobDir ? frame.replace(jobDir, "") : frame}`);
  }
  if (hidden > 0) shown.push(`${indent}... (${hidden} framework frame${hidden === 1 ? "" : "s"} hidden; ${FULL_STACK_VARIABLE}=full shows them)`);
  return shown;
}

/** The environment variable that, set to `full`, shows every frame of a failure. */
const FULL_STACK_VARIABLE = "SAGE_STACK";

/**
 * Whether a stack frame (the text after `at `) is SAGE's own, generated, or Node's.
 * @param builtDir Where the built package's code is (found from this module; a test names one).
 */
export function isFrameworkFrame(frame: string, builtDir: string | undefined = sageTree().builtDir): boolean {
  if (/\beval at\b|^new Function|<anonymous>:\d+/.test(frame)) return true;
  // `fn (file:line:col)`, or the bare location of a module's top level (`async file:line:col` once awaited).
  const location = /\(([^()]*)\)$/.exec(frame)?.[1] ?? frame.replace(/^async /, "");
  // tsx and esbuild load the user's TypeScript; commander runs `sage run`, below the user's module.
  if (/^(node:|internal\/)/.test(location) || location === "native" || /[\\/]node_modules[\\/](tsx|esbuild|commander)[\\/]/.test(location)) return true;
  const path = pathOf(location);
  const bin = sageTree().binDir;
  if (bin !== undefined && path?.startsWith(bin)) return true;
  // Built and run without source maps, SAGE's frames point into its bundled files.
  if (builtDir !== undefined) {
    if (path?.startsWith(builtDir) && path.endsWith(".js") && !path.startsWith(`${builtDir}dashboard${sep}`)) return true;
  }
  const own = /[\\/](?:src|dist)[\\/]((?:api|runtime|graph|jobmanager|cli)[\\/][^:]+?)\.(?:ts|js|mjs)(?::\d+)*$/.exec(location)?.[1];
  if (own === undefined) return false;
  const modules = ownModules();
  return modules.size === 0 || modules.has(own.replace(/\\/g, "/"));
}

// A frame's file as a path: ESM frames are file URLs (percent-encoded), CommonJS ones paths.
function pathOf(location: string): string | undefined {
  const file = location.replace(/(:\d+)+$/, "");
  if (!file.startsWith("file:")) return file;
  try {
    return fileURLToPath(file);
  } catch {
    return undefined;
  }
}

interface SageTree {
  /** SAGE's modules by path: `src/` (run from the sources) or `dist/` (built), with a separator at the end. */
  modulesDir: string | undefined;
  /** `dist/` when built: all of it but the dashboard is SAGE's code. */
  builtDir: string | undefined;
  /** The package's `bin/`, where the `sage` command starts. */
  binDir: string | undefined;
}

let tree: SageTree | undefined;

// Where SAGE's code is, found from this module: the sources sit in `src/<layer>/`; built, this
// code is bundled somewhere below the package's `dist/`, whose root holds SAGE's package.json.
// Neither (a job's bundle, which carries SAGE inside it): only source-mapped frames are told.
function sageTree(): SageTree {
  if (tree) return tree;
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".ts")) return (tree = { modulesDir: join(dirname(here), "..") + sep, builtDir: undefined, binDir: join(dirname(here), "..", "..", "bin") + sep });
  for (let dir = dirname(here), depth = 0; depth < 3; depth++, dir = dirname(dir)) {
    if (basename(dir) === "dist" && isSagePackage(dirname(dir))) return (tree = { modulesDir: dir + sep, builtDir: dir + sep, binDir: join(dirname(dir), "bin") + sep });
  }
  return (tree = { modulesDir: undefined, builtDir: undefined, binDir: undefined });
}

function isSagePackage(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown }).name === "sage";
  } catch {
    return false;
  }
}

let modules: Set<string> | undefined;

// SAGE's module paths (`runtime/task`, `runtime/stages/map-stage`, ...), so that a user's own
// `src/api/x.ts` is not taken for one. Empty where this module is not in SAGE's tree (a bundle).
function ownModules(): Set<string> {
  if (modules) return modules;
  modules = new Set();
  const root = sageTree().modulesDir;
  if (root === undefined) return modules;
  const walk = (relative: string) => {
    for (const entry of readdirSync(`${root}${relative}`, { withFileTypes: true })) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      // Built, the modules are known by their declarations (their code is bundled).
      else if (/\.(ts|js)$/.test(entry.name)) modules!.add(path.replace(/(\.d)?\.(ts|js)$/, ""));
    }
  };
  try {
    for (const layer of LAYERS) walk(layer);
  } catch {
    modules.clear();
  }
  return modules;
}
