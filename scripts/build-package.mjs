/**
 * Builds the package's JavaScript: the entry points and the scripts SAGE starts as processes,
 * bundled by esbuild with shared code split into chunks (`dist/chunks/`). A bounded job is
 * usually one process run, and Node loads a few files far sooner than one per module (importing
 * the package in a fresh process: about 83 ms from the 78 files tsc wrote, about 50 ms from the
 * 18 files of this build). Type declarations
 * come from tsc (`tsconfig.build.json`), the dashboard from Vite.
 */
import { readFileSync, rmSync } from "node:fs";
import { relative, sep } from "node:path";
import { build } from "esbuild";

// Public entry points (package.json "exports", the `sage` command) and every script SAGE spawns by path.
const ENTRY_POINTS = [
  "src/index.ts",
  "src/llm/index.ts",
  "src/cli/main.ts",
  "src/jobmanager/server.ts",
  "src/jobmanager/job-process.ts",
  "src/cluster/job-host.ts",
  "src/cluster/worker-process.ts",
  "src/llm/testing/openai-server-main.ts",
];

// Chunks sit one level below dist/, as the modules' own directories do: a module's paths
// relative to its own file (`../../package.json`, `../dashboard/`) mean the same there. Code that
// esbuild puts elsewhere (dist/index.js, or deeper) must not use any: checked below.
rmSync("dist", { recursive: true, force: true });
const { metafile } = await build({
  entryPoints: ENTRY_POINTS,
  outbase: "src",
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  // Class and function names are read at run time (error names, a service's base class).
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  metafile: true,
  logLevel: "warning",
});

const FINDS_FILES = /new URL\([^)]*import\.meta\.url|fileURLToPath\(import\.meta\.url\)/;
const misplaced = [];
for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
  if (!output.endsWith(".js") || relative("dist", output).split(sep).length === 2) continue;
  for (const input of Object.keys(inputs)) if (FINDS_FILES.test(readFileSync(input, "utf8"))) misplaced.push(`${input} (in ${output})`);
}
if (misplaced.length > 0) {
  console.error(`build-package: code that finds files relative to its own module ended up outside a directory one level below dist/:\n  ${misplaced.join("\n  ")}`);
  process.exit(1);
}

// A class that names itself in its own body (`new X()` in a method, `instanceof X`) is bundled as
// `var X = class _X`: stack frames through its methods then read `_X.method`. Such classes refer
// to themselves through a function after the class, or `this` in a static method.
const renamed = [];
for (const output of Object.keys(metafile.outputs)) {
  if (!output.endsWith(".js")) continue;
  // Any inner name with a leading '_': two classes of one name in a chunk come out as `var Foo2 = class _Foo`.
  for (const [, outer, inner] of readFileSync(output, "utf8").matchAll(/\bvar (\w+) = class (_\w+)\b/g)) renamed.push(`${inner.slice(1)} (as ${outer}, in ${output})`);
}
if (renamed.length > 0) {
  console.error(`build-package: these classes name themselves in their own bodies, so stack frames would show them renamed with a leading '_':\n  ${renamed.join("\n  ")}`);
  process.exit(1);
}
