import { InvalidArgumentError, type Command } from "commander";
import type { JobManagerClient } from "../jobmanager/client.js";
import { addServerOptions, addressOf, clientFor, serverFlags, serverOptions, type ServerOptions } from "./cli-options.js";
import { CLIError } from "./cli-error.js";
import { collectEnv, jobEnv } from "./env-options.js";
import { createJobDisplay } from "./job-display.js";
import { droppedNotice, followJob } from "./job-follow.js";
import { jobDetails, jobTable } from "./job-format.js";
import { failureText, submitJobFile } from "./job-submit.js";
import { printable } from "./safe-text.js";
import { explainServerErrors } from "./server-error.js";

type Raw = Record<string, unknown>;

/** Adds `sage job submit|list|show|stop|delete|logs|watch`; each reports its exit code through `exit`. */
export function registerJobCommand(program: Command, exit: (code: number) => void): void {
  const job = program.command("job").description("submit and manage jobs on a JobManager (remote mode)");
  // Every subcommand talks to a JobManager: same options, same error reporting.
  const define = (name: string, description: string, run: (client: JobManagerClient, args: string[], raw: Raw, server: ServerOptions) => Promise<number>) => {
    const command = addServerOptions(job.command(name).description(description));
    command.action(async (...params: unknown[]) => {
      const args = params.slice(0, command.registeredArguments.length) as string[];
      // `sage job show ""` (an unset shell variable) must not reach the server as "every job".
      command.registeredArguments.forEach((argument, i) => {
        if (args[i]?.trim() === "") throw new CLIError(`the ${argument.name() === "id" ? "job id" : argument.name()} is missing (got an empty string)`, "E_MISSING_ARGUMENT");
      });
      const server = serverOptions(command.opts(), true);
      exit(await explainServerErrors(addressOf(server), () => run(clientFor(server), args, command.opts(), server)));
    });
    return command;
  };

  define("submit", "bundle a pipeline file and run it on the JobManager; waits for the end unless --no-wait", async (client, [file], raw, server) =>
    submitJobFile(client, file!, { name: raw.name as string | undefined, wait: raw.wait !== false, timeoutMs: raw.timeout as number | undefined, json: raw.json === true, serverFlags: serverFlags(server), tokenFlag: typeof raw.token === "string" && raw.token !== "", env: jobEnv(raw.envFile as string | undefined, raw.env as Array<[string, string]> | undefined) }),
  )
    .argument("<file>", "the pipeline file (.ts or .js)")
    .option("--name <name>", "the job's name (default: the file's name without its extension)")
    .option("--env <KEY=VALUE>", "set a variable in the job's environment (repeatable; the client's own are not sent)", collectEnv)
    .option("--env-file <file>", "set the variables of a dotenv-style file (KEY=VALUE lines, # comments) in the job's environment; --env wins")
    .option("--no-wait", "return once the job is submitted")
    .option("--timeout <seconds>", "stop the job if it has not ended after this long (exit code 124)", secondsToMs)
    .option("--json", "print the job's status as JSON (the final one when waiting)");

  define("list", "list the jobs", async (client, _args, raw) => {
    const jobs = await client.listJobs();
    process.stdout.write(raw.json ? `${JSON.stringify(jobs, null, 2)}\n` : jobTable(jobs));
    return 0;
  }).option("--json", "print JSON");

  define("show", "show a job's status (alias: status)", async (client, [id], raw) => {
    const status = await client.getJob(id!);
    process.stdout.write(raw.json ? `${JSON.stringify(status, null, 2)}\n` : jobDetails(status));
    return 0;
  })
    .alias("status")
    .argument("<id>", "job id or unique prefix")
    .option("--json", "print JSON");

  define("stop", "stop a job (drain it: in-flight records complete, services are cleaned up)", async (client, [id], raw) => {
    const status = await client.stopJob(id!, { mode: raw.abort ? "abort" : "drain" });
    process.stdout.write(raw.json ? `${JSON.stringify(status, null, 2)}\n` : `job ${printable(status.name)} (${status.id.slice(0, 8)}) ${status.state}\n`);
    return 0;
  })
    .argument("<id>", "job id or unique prefix")
    .option("--abort", "drop queued records and cancel in-flight calls")
    .option("--json", "print the final status as JSON");

  define("delete", "stop a job if needed and forget it", async (client, [id]) => {
    const { deleted } = await client.deleteJob(id!);
    process.stdout.write(`deleted job ${printable(deleted)}\n`);
    return 0;
  }).argument("<id>", "job id or unique prefix");

  define("logs", "print a job's log lines", async (client, [id], raw) => {
    const { id: full } = await client.getJob(id!);
    const print = (lines: string[]) => process.stdout.write(lines.map((line) => `${line}\n`).join(""));
    if (raw.follow) await followJob(client, full, { onLines: print, onDropped: (count) => process.stderr.write(droppedNotice(count)) });
    else {
      const { lines, next } = await client.logs(full);
      // Lines before the first one kept rolled off the JobManager's log: say so, as -f does.
      const dropped = next - lines.length;
      if (dropped > 0) process.stderr.write(droppedNotice(dropped));
      print(lines);
    }
    return 0;
  })
    .argument("<id>", "job id or unique prefix")
    .option("-f, --follow", "keep printing new lines until the job ends");

  define("watch", "show a job's live status until it ends", async (client, [id]) => {
    const { id: full } = await client.getJob(id!);
    const display = createJobDisplay(process.stdout);
    const final = await followJob(client, full, { onStatus: (status) => display.update(status) });
    display.close(final);
    if (final.state === "failed") process.stderr.write(failureText(final));
    return final.state === "failed" ? 1 : 0;
  }).argument("<id>", "job id or unique prefix");
}

function secondsToMs(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError("expected a positive number of seconds.");
  return Math.round(seconds * 1000);
}
