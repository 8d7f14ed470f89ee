import type { Command } from "commander";
import { addServerOptions, serverOptions, type ServerOptions } from "./cli-options.js";
import { dataPaths } from "../jobmanager/paths.js";
import { keepingAlive } from "./keep-alive.js";
import { readRecordedAddress } from "./pid-file.js";
import { addJobManagerSettings, jobManagerSettings } from "./jobmanager-settings.js";
import { runForeground } from "./jobmanager-foreground.js";
import { startInBackground } from "./jobmanager-start.js";
import { jobManagerStatus } from "./jobmanager-status.js";
import { stopJobManager } from "./jobmanager-stop.js";

type Raw = Record<string, unknown>;

// `status`, `stop` and `restart` of a data dir reach its server where it listens, unless told otherwise.
function withRecordedAddress(command: string, options: ServerOptions, raw: Raw): ServerOptions {
  if (command === "start" || raw.host !== undefined || raw.port !== undefined) return options;
  const recorded = readRecordedAddress(dataPaths(options.dataDir).pid);
  return recorded ? { ...options, ...recorded } : options;
}

/** Adds `sage jobmanager start|stop|status|restart`; each reports its exit code through `exit`. */
export function registerJobManagerCommand(program: Command, exit: (code: number) => void): void {
  const jobmanager = program.command("jobmanager").description("run the JobManager server that runs submitted jobs (remote mode)");
  const define = (name: string, description: string, run: (options: ServerOptions, raw: Raw) => Promise<number>) => {
    const command = addServerOptions(jobmanager.command(name).description(description), { listening: name === "start" });
    command.action(async () => exit(await keepingAlive(() => run(withRecordedAddress(name, serverOptions(command.opts()), command.opts()), command.opts()))));
    return command;
  };

  addJobManagerSettings(
    define("start", "start the JobManager in the background; returns once it answers health checks", (options, raw) =>
      raw.foreground ? runForeground(options, jobManagerSettings(raw)) : startInBackground(options, process.stdout, jobManagerSettings(raw)),
    ).option("--foreground", "keep the server attached to this terminal until Ctrl-C or SIGTERM"),
  );
  define("stop", "stop the JobManager of the data dir (SIGTERM, SIGKILL after 10 s)", (options) => stopJobManager(options));
  define("status", "print health, pid, version, uptime and job counts; exit code 1 when not running", (options, raw) =>
    jobManagerStatus(options, raw.json === true),
  ).option("--json", "print JSON");
  addJobManagerSettings(
    define("restart", "stop, then start in the background", async (options, raw) => {
      await stopJobManager(options);
      return startInBackground(options, process.stdout, jobManagerSettings(raw));
    }),
  );
}
