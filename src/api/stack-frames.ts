import { readdirSync } from "node:fs";
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
  const shown: string[] = [];
  let hidden = 0;
  for (const line of stack.split("\n")) {
    const frame = /^\s+at (.*)$/.exec(line)?.[1];
    if (frame === undefined) continue;
    if (isFrameworkFrame(frame)) hidden++;
    else shown.push(`${indent}at ${jobDir ? frame.replace(jobDir, "") : frame}`);
  }
  if (hidden > 0) shown.push(`${indent}... (${hidden} framework frame${hidden === 1 ? "" : "s"} hidden)`);
  return shown;
}

/** Whether a stack frame (the text after `at `) is SAGE's own, generated, or Node's. */
export function isFrameworkFrame(frame: string): boolean {
  if (/\beval at\b|^new Function|<anonymous>:\d+/.test(frame)) return true;
  const location = /\(([^()]*)\)$/.exec(frame)?.[1] ?? frame;
  if (/^(node:|internal\/)/.test(location) || location === "native" || /[\\/]node_modules[\\/](tsx|esbuild)[\\/]/.test(location)) return true;
  // Built, SAGE's code runs from bundled chunks (the frames of a process without source maps).
  if (/[\\/]dist[\\/]chunks[\\/][^\\/:]+\.js(?::\d+)*$/.test(location) && location.replace(/^file:\/\//, "").startsWith(packageDist())) return true;
  const own = /[\\/](?:src|dist)[\\/]((?:api|runtime|graph|jobmanager|cli)[\\/][^:]+?)\.(?:ts|js|mjs)(?::\d+)*$/.exec(location)?.[1];
  if (own === undefined) return false;
  const modules = ownModules();
  return modules.size === 0 || modules.has(own.replace(/\\/g, "/"));
}

let modules: Set<string> | undefined;

// The directory above this module's own: `src/` or `dist/` of SAGE's tree (built, a chunk sits one
// level below `dist/`, as its modules' directories do), or a job bundle's directory.
function packageDist(): string {
  return fileURLToPath(new URL("..", import.meta.url));
}

// SAGE's module paths (`runtime/task`, `runtime/stages/map-stage`, ...), so that a user's own
// `src/api/x.ts` is not taken for one. Empty where this module is not in SAGE's tree (a bundle).
function ownModules(): Set<string> {
  if (modules) return modules;
  modules = new Set();
  const root = packageDist();
  const walk = (relative: string) => {
    for (const entry of readdirSync(`${root}${relative}`, { withFileTypes: true })) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      // Built, the modules are known by their declarations (their code is in chunks).
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
