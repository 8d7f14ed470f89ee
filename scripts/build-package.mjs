/**
 * Builds the package's JavaScript: the entry points and the scripts SAGE starts as processes,
 * bundled by esbuild with shared code split into chunks (`dist/chunks/`). A bounded job is
 * usually one process run, and Node loads a few files far sooner than one per module (importing
 * the package: about 65 ms from the 78 files tsc writes, about 25 ms bundled). Type declarations
 * come from tsc (`tsconfig.build.json`), the dashboard from Vite.
 */
import { rmSync } from "node:fs";
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

// Chunks sit one level below dist/, like every entry point's directory: a module's paths relative
// to its own file (`../../package.json`, `../dashboard/`) mean the same wherever esbuild puts it.
rmSync("dist", { recursive: true, force: true });
await build({
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
  logLevel: "warning",
});
