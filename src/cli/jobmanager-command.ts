import type { Command } from "commander";
import { addServerOptions, serverOptions, type ServerOptions } from "./cli-options.js";
import { dataPaths } from "../jobmanager/paths.js";
import { keepingAlive } from "./keep-alive.js";
import { readRecordedAddress } from "./pid-file.js";
import { addJobManagerSettings, jobManagerSettings } from "./jobmanager-settings.js";

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

  // Each command's implementation loads when it runs: `sage run` does not pay for the server (SQLite, esbuild, ws).
  addJobManagerSettings(
    define("start", "start the JobManager in the background; returns once it answers health checks", async (options, raw) =>
      raw.foreground
        ? (await import("./jobmanager-foreground.js")).runForeground(options, jobManagerSettings(raw))
        : (await import("./jobmanager-start.js")).startInBackground(options, process.stdout, jobManagerSettings(raw)),
    ).option("--foreground", "keep the server attached to this terminal until Ctrl-C or SIGTERM"),
  );
  define("stop", "stop the JobManager of the data dir (SIGTERM, SIGKILL after 10 s)", async (options) => (await import("./jobmanager-stop.js")).stopJobManager(options));
  define("status", "print health, pid, version, uptime and job counts; exit code 1 when not running", async (options, raw) =>
    (await import("./jobmanager-status.js")).jobManagerStatus(options, raw.json === true),
  ).option("--json", "print JSON");
  addJobManagerSettings(
    define("restart", "stop, then start in the background", async (options, raw) => {
      await (await import("./jobmanager-stop.js")).stopJobManager(options);
      return (await import("./jobmanager-start.js")).startInBackground(options, process.stdout, jobManagerSettings(raw));
    }),
  );
}
