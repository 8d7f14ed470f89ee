import { PipelineDefinitionError } from "../api/errors.js";

/**
 * Bundles a pipeline's entry file with everything it imports into one ES module (TypeScript
 * included), the unit a JobManager runs. Native addons cannot be bundled and stay external.
 */
export async function bundleEntry(entry: string): Promise<string> {
  // Loaded on demand: esbuild is a native tool, and a job process never bundles.
  const { build } = await import("esbuild");
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      write: false,
      logLevel: "silent",
      sourcemap: "inline",
      // Positions are enough for stack traces; the sources themselves would double the bundle.
      sourcesContent: false,
      // CommonJS dependencies call require(); an ES module has none, so give it one.
      banner: { js: "import { createRequire as __sageCreateRequire } from 'node:module'; const require = __sageCreateRequire(import.meta.url);" },
      external: ["esbuild", "better-sqlite3", "bufferutil", "utf-8-validate", "fsevents"],
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    const first = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } }> }).errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : "";
    throw new PipelineDefinitionError(`cannot bundle ${entry}: ${first?.text ?? (error as Error).message}${where}`);
  }
}
