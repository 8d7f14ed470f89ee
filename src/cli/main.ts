import { Command, CommanderError } from "commander";
import { CLIError } from "./cli-error.js";
import { registerJobCommand } from "./job-command.js";
import { registerJobManagerCommand } from "./jobmanager-command.js";
import { runPipelineFile } from "./run-command.js";
import { parseMetricsPort, runMetricsAddress } from "./run-metrics.js";
import { registerWorkerCommand } from "./worker-command.js";
import { packageVersion } from "./version.js";

export { packageVersion } from "./version.js";

/** Builds the `sage` command tree; commands hand their exit code to `exit` instead of setting it. */
export function buildProgram(exit: (code: number) => void = () => {}): Command {
  const program = new Command("sage")
    .description("SAGE: dataflow pipelines for LLM workloads")
    .version(packageVersion())
    .exitOverride()
    // One line after a usage error, not the whole help: the error stays in sight.
    .showHelpAfterError("(add --help for usage)");
  program
    .command("run")
    .description("run a pipeline file (.ts or .js) locally, with a live progress display")
    .argument("<file>", "the pipeline file")
    .option("--metrics-port <port>", "serve Prometheus metrics of the run's jobs at http://<host>:<port>/metrics while it runs (0 picks a free port)", parseMetricsPort)
    .option("--metrics-host <host>", "the address --metrics-port listens on (default: 127.0.0.1)")
    .action(async (file: string, raw: { metricsPort?: number; metricsHost?: string }) => {
      exit(await runPipelineFile(file, { metrics: runMetricsAddress(raw.metricsPort, raw.metricsHost) }));
    });
  registerJobManagerCommand(program, exit);
  registerJobCommand(program, exit);
  registerWorkerCommand(program, exit);
  return program;
}

/** Parses `argv` and runs the command; the only place that decides the process's exit code. */
export async function runMain(argv: string[] = process.argv): Promise<void> {
  let exitCode = 0;
  try {
    await buildProgram((code) => (exitCode = code)).parseAsync(argv);
    process.exitCode = exitCode;
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
