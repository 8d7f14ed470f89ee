import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "../../src/api/types.js";
import { eventually, freePort, isAlive, jobManagerSlot, sage, sageDone } from "./sage-cli.js";

const hello = "test/fixtures/job-pipeline.ts";
const endless = "test/fixtures/job-endless.ts";
const failing = "test/fixtures/job-failing.ts";

let slot: Awaited<ReturnType<typeof jobManagerSlot>>;
let serverPid: number;
/** `sage job <args> --port P --data-dir D` against this file's JobManager. */
const job = (...args: string[]) => sageDone(["job", ...args, ...slot.options]);
const jobJson = async <T = JobStatus>(...args: string[]): Promise<T> => JSON.parse((await job(...args, "--json")).stdout) as T;

beforeAll(async () => {
  slot = await jobManagerSlot();
  const started = await sageDone(["jobmanager", "start", ...slot.options]);
  expect(started.code).toBe(0);
  serverPid = slot.pid()!;
});

afterAll(async () => {
  const stopped = await sageDone(["jobmanager", "stop", ...slot.options]);
  expect(stopped.code).toBe(0);
  expect(isAlive(serverPid)).toBe(false);
  await slot.cleanup([serverPid]);
});

describe("sage job", () => {
  it("submits a pipeline file, prints its output and waits for the end", async () => {
    const { code, stdout, stderr } = await job("submit", hello);
    // Named after the file from `created` on (its environment's name is job-hello).
    expect(stderr).toMatch(/\[sage\] job job-pipeline \(\w{8}\) created/);
    expect(stderr).toMatch(/\[sage\] job job-pipeline \(\w{8}\) finished in/);
    expect(stderr).not.toContain("job-hello");
    expect(stderr).toMatch(/\[sage\]\s+Greet\s+map\s+in 3\s+out 3/);
    expect(stdout).toBe("hello ann\nhello bob\nhello cy\nsubmit returned\n");
    expect(code).toBe(0);
  });

  it("exits 1 naming the operator when the job fails", async () => {
    const { code, stdout, stderr } = await job("submit", failing);
    expect(stderr).toContain("sage: job 'job-failing' failed in operator 'Breaks': deliberate failure (E_JOB_FAILED)\n    at env.fromBatch.map.name (test/fixtures/job-failing.ts:8:24)\n    ... (3 framework frames hidden; SAGE_STACK=full shows them)\n");
    expect(stderr).toMatch(/\[sage\] job job-failing \(\w{8}\) failed in \d+ms\n/);
    expect(`${stdout}${stderr}`.split("deliberate failure")).toHaveLength(2); // printed once
    expect(code).toBe(1);
  });

  it("submits without waiting; list and show find the job by full id or prefix, as text and JSON", async () => {
    const submitted = await jobJson("submit", hello, "--no-wait", "--name", "no-wait");
    expect(submitted).toMatchObject({ name: "no-wait", state: "created", autostop: false, platform: "remote" });
    const prefix = submitted.id.slice(0, 6);
    await eventually(async () => (await jobJson("show", prefix)).state === "finished");
    const shown = await jobJson("show", submitted.id);
    // The module's own submit({ autostop: true }) is what show reports, and the name stays.
    expect(shown).toMatchObject({ id: submitted.id, name: "no-wait", state: "finished", autostop: true, tasks: 0, services: 0 });
    const details = await job("show", prefix);
    expect(details.stdout).toContain(`id         ${submitted.id}`);
    expect(details.stdout).toMatch(/operators:\n\s+batch#0/);

    const listed = await jobJson<JobStatus[]>("list");
    expect(listed.map((status) => status.id)).toContain(submitted.id);
    const table = await job("list");
    expect(table.stdout).toMatch(/^ID\s+NAME\s+STATE\s+RUNTIME\s+SUBMITTED\n/);
    expect(table.stdout).toMatch(new RegExp(`\\n${submitted.id.slice(0, 8)}\\s+\\S+\\s+finished\\s+\\d`));
    expect((await job("logs", prefix)).stdout).toBe("hello ann\nhello bob\nhello cy\nsubmit returned\n");

    const missing = await job("show", "ffffffff-nope");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("sage: no job 'ffffffff-nope' (E_JOB_NOT_FOUND)\n");
  });

  it("follows logs (-f) and watches an endless job until it is stopped, then deletes it", async () => {
    const { id } = await jobJson("submit", endless, "--no-wait");
    const follow = sage(["job", "logs", id.slice(0, 8), "-f", ...slot.options]);
    const watch = sage(["job", "watch", id.slice(0, 8), ...slot.options]);
    await eventually(() => /tick 5\n/.test(follow.output().stdout) && /running/.test(watch.output().stdout));

    const stopped = await job("stop", id.slice(0, 8));
    expect(stopped.stdout).toBe(`job job-endless (${id.slice(0, 8)}) stopped\n`);
    expect(stopped.code).toBe(0);

    const followed = await follow.done;
    expect(followed.code).toBe(0);
    const ticks = followed.stdout.trimEnd().split("\n");
    expect(ticks.length).toBeGreaterThan(5);
    expect(ticks).toEqual(ticks.map((_, i) => `tick ${i}`)); // every line once, in order
    expect((await job("logs", id)).stdout).toBe(followed.stdout);

    const watched = await watch.done;
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/\[sage\] job job-endless \(\w{8}\) running.*\n/);
    expect(watched.stdout).toMatch(/\[sage\] job job-endless \(\w{8}\) stopped in .*\n\[sage\]\s+Ticks\s+source\s+out \d+\n/);

    const deleted = await job("delete", id.slice(0, 8));
    expect(deleted.stdout).toBe(`deleted job ${id}\n`);
    expect((await job("show", id)).stderr).toContain("(E_JOB_NOT_FOUND)");
  });

  it("stops a job that outlives --timeout and exits 124", async () => {
    const { code, stdout, stderr } = await job("submit", endless, "--timeout", "0.5", "--json");
    expect(stderr).toContain("did not finish within 0.5 s and was stopped (E_JOB_TIMEOUT)");
    expect(code).toBe(124);
    const final = JSON.parse(stdout) as JobStatus;
    expect(final).toMatchObject({ state: "stopped", tasks: 0, services: 0, isRunning: false });
  });

  it("takes the address from SAGE_ADDRESS; flags win over it", async () => {
    const dataDir = ["--data-dir", slot.dataDir];
    const viaEnv = await sageDone(["job", "list", ...dataDir], { SAGE_ADDRESS: `http://127.0.0.1:${slot.port}` });
    expect(viaEnv.stderr).toBe("");
    expect(viaEnv.code).toBe(0);
    const bare = await sageDone(["job", "list", ...dataDir], { SAGE_ADDRESS: `127.0.0.1:${slot.port}` });
    expect(bare.code).toBe(0);
    const dead = await freePort();
    const flagWins = await sageDone(["job", "list", "--port", String(slot.port), ...dataDir], { SAGE_ADDRESS: `http://127.0.0.1:${dead}` });
    expect(flagWins.code).toBe(0);
    const unreachable = await sageDone(["job", "list", ...dataDir], { SAGE_ADDRESS: `http://127.0.0.1:${dead}` });
    expect(unreachable.stderr).toContain(`no JobManager answers at 127.0.0.1:${dead}`);
    const bad = await sageDone(["job", "list"], { SAGE_ADDRESS: "https://example.invalid/path" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sage: SAGE_ADDRESS='https:\/\/example.invalid\/path' is not a JobManager address .*expected http:\/\/host:port \(E_BAD_ADDRESS\)\n$/);
  });

  it("prints a --no-wait hint that works as printed", async () => {
    const { stdout, code } = await job("submit", hello, "--no-wait");
    expect(code).toBe(0);
    const hint = /follow it with: sage (job watch .*)\n/.exec(stdout)?.[1];
    expect(hint).toBe(`job watch ${/\(([0-9a-f-]{36})\)/.exec(stdout)![1]!.slice(0, 8)} --port ${slot.port} --data-dir ${slot.dataDir}`);
    const watched = await sageDone(hint!.split(" "));
    expect(watched.stderr).toBe("");
    expect(watched.code).toBe(0);
  });

  it("takes status as an alias of show, and says when the id is missing", async () => {
    const { id } = await jobJson("submit", hello, "--no-wait");
    expect((await jobJson("status", id.slice(0, 8))).id).toBe(id);
    const empty = await job("show", "");
    expect(empty.stderr).toBe("sage: the job id is missing (got an empty string) (E_MISSING_ARGUMENT)\n");
    expect(empty.code).toBe(2);
  });

  it("passes --env and --env-file to the job, and warns when the job reads a variable only the client has", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sage-env-file-"));
    try {
      const file = join(dir, "job.env");
      writeFileSync(file, `# comment\n\nexport FROM_FILE=from file # trailing\nQUOTED="a # b \\"q\\""\nGREETING='overridden'\n`);
      const { code, stdout } = await sageDone(["job", "submit", "test/fixtures/job-env.ts", "--env", "GREETING=hi=there", "--env-file", file, ...slot.options], { CLIENT_ONLY_VAR: "secret-value" });
      expect(code).toBe(0);
      const warning = "[sage] the job read $CLIENT_ONLY_VAR, which is set on the client but not in the job: pass it with --env CLIENT_ONLY_VAR=... (or RemoteEnvironment({ env }))";
      expect(stdout.split("\n").filter((line) => line === warning)).toHaveLength(1);
      // The warning comes on the job's stderr, which may be read before or between its stdout lines.
      expect(stdout.replace(`${warning}\n`, "")).toContain('GREETING=hi=there\nFROM_FILE=from file\nQUOTED=a # b "q"\nCLIENT_ONLY_VAR=(unset)\nCLIENT_ONLY_VAR=(unset)\n');
      expect(stdout).not.toContain("secret-value");

      writeFileSync(file, "GOOD=1\noops\n");
      const bad = await job("submit", "test/fixtures/job-env.ts", "--env-file", file);
      expect(bad.stderr).toBe(`sage: ${file}:2: not an assignment (expected KEY=VALUE): oops (E_BAD_ENV_FILE)\n`);
      expect(bad.code).toBe(2);
      const badFlag = await job("submit", "test/fixtures/job-env.ts", "--env", "1X=2");
      expect(badFlag.stderr).toContain("expected KEY=VALUE with KEY a variable name (got '1X=2')");
      expect(badFlag.code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints a RemoteEnvironment script's failure once: the message, then the user's frames", async () => {
    const token = readFileSync(join(slot.dataDir, "token"), "utf8").trim();
    const run = spawn(process.execPath, ["--import", "tsx", "test/fixtures/remote-failing.ts"], {
      env: { ...process.env, SAGE_ADDRESS: `http://127.0.0.1:${slot.port}`, SAGE_TOKEN: token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    run.stdout.on("data", (chunk) => (output += chunk));
    run.stderr.on("data", (chunk) => (output += chunk));
    const code = await new Promise((resolve) => run.on("close", resolve));
    expect(code).toBe(1);
    expect(output.split("deliberate failure")).toHaveLength(2);
    expect(output).toMatch(/JobFailedError: job 'remote-failing' failed in operator 'Breaks': deliberate failure\n {4}at .*\(test\/fixtures\/remote-failing\.ts:8:\d+\)\n {4}\.\.\. \(\d+ framework frames? hidden; SAGE_STACK=full shows them\)/);
    expect(output).not.toMatch(/[\\/]jobs[\\/][0-9a-f-]{36}[\\/]|eval at|job module failed/);
  });

  it("says which address does not answer, and when the token is wrong", async () => {
    const port = await freePort();
    const unreachable = await sageDone(["job", "list", "--port", String(port)]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`sage: no JobManager answers at 127.0.0.1:${port}`);
    expect(unreachable.stderr).toContain("(E_UNREACHABLE)");
    const unauthorized = await job("list", "--token", "wrong");
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain("(E_UNAUTHORIZED)");
  });
});
