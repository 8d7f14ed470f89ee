import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { CLIError } from "./cli-error.js";
import { runPipelineFile } from "./run-command.js";

/** The package version, read from package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Builds the `sage` command tree. */
export function buildProgram(): Command {
  const program = new Command("sage")
    .description("SAGE: dataflow pipelines for LLM workloads")
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError();
  program
    .command("run")
    .description("run a pipeline file (.ts or .js) locally, with a live progress display")
    .argument("<file>", "the pipeline file")
    .action(async (file: string) => {
      process.exitCode = await runPipelineFile(file);
    });
  return program;
}

/** Parses `argv` and runs the command; the only place that decides the process's exit code. */
export async function runMain(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof CLIError) {
      process.stderr.write(`sage: ${error.message} (${error.code})\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`sage: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
