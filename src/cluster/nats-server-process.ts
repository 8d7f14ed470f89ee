import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { reapWithThisProcess } from "./reaper.js";

/** Options of a nats-server started by this process. */
export interface NatsServerOptions {
  /** The JetStream store directory; a fresh temporary one (removed at stop) when omitted. */
  storeDir?: string;
  /** The address clients connect to (default 127.0.0.1): an interface's address lets other machines in. */
  host?: string;
  /** Client port on `host`; a free one when omitted or 0. */
  port?: number;
  /** How long to wait for the server to listen (default 10 s). */
  startTimeoutMs?: number;
  /** Extra command-line arguments. */
  args?: string[];
  /**
   * Clients must present this token (as `nats://<token>@host:port`). It is given in a config file
   * only this user can read, never on the command line, which every local user can list.
   */
  token?: string;
}

/** A running nats-server child process with JetStream enabled. */
export interface NatsServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly storeDir: string;
  /** Ends the server (SIGTERM, then SIGKILL after 3 s) and removes a temporary store. */
  stop(): Promise<void>;
  /** Kills the server at once, keeping its store (to restart it with the same store). */
  kill(): Promise<void>;
}

/** Where the nats-server binary is: NATS_SERVER_BIN, else the PATH; undefined when there is none. */
export function findNatsServer(): string | undefined {
  const configured = process.env.NATS_SERVER_BIN;
  if (configured) return configured;
  const dirs = (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/usr/local/sbin", "/usr/bin"]);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, "nats-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The error for a machine without nats-server, saying what to install or configure. */
export function natsServerMissing(): Error {
  return new Error(
    "nats-server was not found: install it (Debian/Ubuntu: apt-get install nats-server; or a release from nats.io) " +
      "or set NATS_SERVER_BIN to its path; or pass an existing cluster with { cluster: 'nats://host:4222' } / SAGE_CLUSTER",
  );
}

/** Starts `nats-server -js` on 127.0.0.1 (or `options.host`) and resolves once it listens. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerProcess> {
  const bin = findNatsServer();
  if (!bin) throw natsServerMissing();
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`NATS_SERVER_BIN is ${bin}, which is not an executable nats-server; unset it to use the one on the PATH`);
  }
  const temporaryStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "sage-nats-"));
  const portsDir = mkdtempSync(join(tmpdir(), "sage-nats-ports-"));
  const host = options.host ?? "127.0.0.1";
  const config: string[] = [];
  if (options.token !== undefined) {
    // The directory is made for this user only (mode 0700); the file goes with it once the server listens.
    const file = join(portsDir, "auth.conf");
    writeFileSync(file, `authorization { token: ${JSON.stringify(options.token)} }\n`, { mode: 0o600 });
    config.push("-c", file);
  }
  const args = [...config, "-js", "-a", host, "-p", String(options.port && options.port > 0 ? options.port : -1), "-sd", storeDir, "--ports_file_dir", portsDir, ...(options.args ?? [])];
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    if (stderr.length < 64 * 1024) stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const cleanupDirs = () => {
    rmSync(portsDir, { recursive: true, force: true });
    if (temporaryStore) rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    const port = await waitForPort(child, portsDir, options.startTimeoutMs ?? 10_000, () => stderr);
    rmSync(portsDir, { recursive: true, force: true });
    // A broker this process started ends with it, even when this process is killed.
    const cancelReaper = reapWithThisProcess([child.pid!], temporaryStore ? [storeDir] : []);
    void exited.then(cancelReaper);
    const end = async (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
    };
    return {
      url: `nats://${host.includes(":") ? `[${host}]` : host}:${port}`,
      port,
      pid: child.pid!,
      storeDir,
      async stop() {
        await end("SIGTERM");
        cleanupDirs();
      },
      async kill() {
        await end("SIGKILL");
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    cleanupDirs();
    throw error;
  }
}

async function waitForPort(child: ChildProcess, portsDir: string, timeoutMs: number, stderr: () => string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nats-server exited before it listened (${child.exitCode ?? child.signalCode}): ${stderr().trim().slice(-500)}`);
    }
    const file = readdirSync(portsDir).find((name) => name.endsWith(".ports"));
    if (file) {
      try {
        const ports = JSON.parse(readFileSync(join(portsDir, file), "utf8")) as { nats?: string[] };
        const port = Number(new URL(ports.nats![0]!).port);
        if (port > 0) return port;
      } catch {
        // written half way: read again
      }
    }
    await sleep(5);
  }
  throw new Error(`nats-server did not listen within ${timeoutMs} ms: ${stderr().trim().slice(-500)}`);
}
