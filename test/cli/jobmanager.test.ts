import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { dataPaths } from "../../src/jobmanager/paths.js";
import { eventually, isAlive, jobManagerSlot, sage, sageDone } from "./sage-cli.js";

type Slot = Awaited<ReturnType<typeof jobManagerSlot>>;
const slots: Slot[] = [];
async function slot(): Promise<Slot> {
  const created = await jobManagerSlot();
  slots.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(slots.splice(0).map((s) => s.cleanup()));
});

async function health(port: number): Promise<unknown> {
  return (await fetch(`http://127.0.0.1:${port}/api/health`)).json();
}

describe("sage jobmanager", () => {
  it("status and stop of a data dir find its server on the port it listens on, without --port", async () => {
    const s = await slot();
    expect((await sageDone(["jobmanager", "start", ...s.options])).code).toBe(0);
    const pid = s.pid()!;
    const status = await sageDone(["jobmanager", "status", "--data-dir", s.dataDir]);
    expect(status.stdout).toContain(`JobManager running at http://127.0.0.1:${s.port}`);
    expect(status.code).toBe(0);
    const stopped = await sageDone(["jobmanager", "stop", "--data-dir", s.dataDir]);
    expect(stopped.code).toBe(0);
    await eventually(() => !isAlive(pid));
  });

  it("starts on a free port with --port 0, prints it, and every command of the data dir finds it there (it was refused)", async () => {
    const s = await slot();
    const started = await sageDone(["jobmanager", "start", "--port", "0", "--data-dir", s.dataDir]);
    expect(started.code, started.stderr).toBe(0);
    const port = Number(/JobManager started at http:\/\/127\.0\.0\.1:(\d+) \(pid/.exec(started.stdout)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(await health(port)).toMatchObject({ status: "ok" });
    const pid = s.pid()!;
    expect((await sageDone(["jobmanager", "status", "--data-dir", s.dataDir])).stdout).toContain(`JobManager running at http://127.0.0.1:${port}`);
    // Started again on port 0: the data dir's server already runs, wherever it listens.
    expect((await sageDone(["jobmanager", "start", "--port", "0", "--data-dir", s.dataDir])).stdout).toContain(`JobManager already running at 127.0.0.1:${port} (pid ${pid})`);
    // A job command with only the data dir reaches it too (its address and its token file).
    const listed = await sageDone(["job", "list", "--data-dir", s.dataDir], { SAGE_ADDRESS: "" });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("no jobs");
    expect((await sageDone(["jobmanager", "stop", "--data-dir", s.dataDir])).code).toBe(0);
    await eventually(() => !isAlive(pid));
    // Other commands still refuse port 0: it names no server to talk to.
    expect((await sageDone(["job", "list", "--port", "0"])).stderr).toContain("argument '0' is invalid");
  });

  it("starts in the background, reports status, restarts and stops, leaving nothing behind", async () => {
    const s = await slot();
    const started = await sageDone(["jobmanager", "start", ...s.options]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const pid = s.pid()!;
    expect(started.stdout).toContain(`JobManager started at http://127.0.0.1:${s.port} (pid ${pid})`);
    expect(isAlive(pid)).toBe(true);
    expect(await health(s.port)).toMatchObject({ status: "ok" });
    const paths = dataPaths(s.dataDir);
    expect(statSync(paths.token).mode & 0o777).toBe(0o600);
    const token = readFileSync(paths.token, "utf8").trim();
    expect(token.length).toBeGreaterThanOrEqual(16);
    expect(readFileSync(paths.log, "utf8")).toContain(`listening on http://127.0.0.1:${s.port}`);
    // The dashboard's address carries no token (its login asks for it): it says where the token is.
    const login = `http://127.0.0.1:${s.port}/`;
    expect(started.stdout).toContain(`  dashboard: ${login}\n  token:     ${paths.token} (the dashboard's login asks for it)\n`);
    expect(started.stdout).not.toContain(token);

    const again = await sageDone(["jobmanager", "start", ...s.options]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already running at 127.0.0.1:${s.port} (pid ${pid})`);

    const status = await sageDone(["jobmanager", "status", ...s.options]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`running at http://127.0.0.1:${s.port}\\n\\s+pid\\s+${pid}\\n\\s+version\\s+\\d+\\.\\d+\\.\\d+\\n\\s+uptime\\s+\\S+\\n\\s+jobs\\s+none`));
    expect(status.stdout).toContain(`  dashboard  ${login}\n  token      ${paths.token}\n`);
    expect(status.stdout).not.toContain(token);
    const json = JSON.parse((await sageDone(["jobmanager", "status", "--json", ...s.options])).stdout);
    expect(json).toMatchObject({ running: true, pid, jobs: { running: 0, finished: 0 } });

    // Another data dir at the same address: not this server's pid file, so stop says how to reach it.
    const elsewhere = mkdtempSync(join(tmpdir(), "sage-jm-other-"));
    try {
      const wrongDir = await sageDone(["jobmanager", "stop", "--port", String(s.port), "--data-dir", elsewhere]);
      expect(wrongDir.code).toBe(1);
      expect(wrongDir.stdout).toContain(`a JobManager answers at http://127.0.0.1:${s.port}, but not from data dir ${elsewhere}: pass its --data-dir`);
      expect(isAlive(pid)).toBe(true);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }

    const restarted = await sageDone(["jobmanager", "restart", ...s.options]);
    expect(restarted.code).toBe(0);
    const newPid = s.pid()!;
    expect(newPid).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);
    expect(readFileSync(paths.token, "utf8").trim()).toBe(token); // the stored token is reused
    expect(await health(s.port)).toMatchObject({ status: "ok" });

    const stopped = await sageDone(["jobmanager", "stop", ...s.options]);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain(`JobManager stopped (pid ${newPid})`);
    expect(isAlive(newPid)).toBe(false);
    expect(existsSync(paths.pid)).toBe(false);
    const down = await sageDone(["jobmanager", "status", ...s.options]);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain(`JobManager not running at 127.0.0.1:${s.port}`);
    expect((await sageDone(["jobmanager", "stop", ...s.options])).stdout).toContain("no JobManager running");
  });

  it("passes --log-max-line-bytes, --max-report-bytes, --max-jobs and --retention on to a server started in the background", async () => {
    const s = await slot();
    const bad = await sageDone(["jobmanager", "start", "--retention", "7days", ...s.options]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/'7days' is not a duration/);
    expect((await sageDone(["jobmanager", "start", "--max-jobs", "0", ...s.options])).stderr).toMatch(/--max-jobs.*positive integer/);
    expect((await sageDone(["jobmanager", "start", "--max-report-bytes", "1.5", ...s.options])).stderr).toMatch(/--max-report-bytes.*positive integer/);
    const started = await sageDone(["jobmanager", "start", "--log-max-line-bytes", "8", "--max-report-bytes", "1000000", "--max-jobs", "1", "--retention", "1d", ...s.options]);
    expect(started.code).toBe(0);
    const pipeline = new URL("../fixtures/job-pipeline.ts", import.meta.url).pathname;
    for (let i = 0; i < 2; i++) {
      const submitted = await sageDone(["job", "submit", pipeline, ...s.options]);
      expect(submitted.code).toBe(0);
      expect(submitted.stdout).toContain("hello an … [line cut: 1 bytes]\n");
    }
    const listed = JSON.parse((await sageDone(["job", "list", "--json", ...s.options])).stdout) as unknown[];
    expect(listed).toHaveLength(1);
    expect((await sageDone(["jobmanager", "stop", ...s.options])).code).toBe(0);
  });

  it("stores an explicit token and accepts only it", async () => {
    const s = await slot();
    expect((await sageDone(["jobmanager", "start", "--token", "test-secret-token", ...s.options])).code).toBe(0);
    expect(readFileSync(dataPaths(s.dataDir).token, "utf8").trim()).toBe("test-secret-token");
    const ok = await sageDone(["job", "list", "--token", "test-secret-token", "--port", String(s.port)]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("no jobs\n");
    const wrong = await sageDone(["job", "list", "--port", String(s.port)], { SAGE_TOKEN: "not-it" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^sage: wrong token.*\(E_UNAUTHORIZED\)\n$/);
    const pid = s.pid()!;
    expect((await sageDone(["jobmanager", "stop", ...s.options])).code).toBe(0);
    expect(isAlive(pid)).toBe(false);
  });

  it("refuses a non-loopback address without an explicit token", async () => {
    const s = await slot();
    const refused = await sageDone(["jobmanager", "start", "--host", "0.0.0.0", ...s.options]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("refusing to listen on non-loopback address 0.0.0.0 without an explicit token");
    expect(refused.stderr).toContain("(E_TOKEN_REQUIRED)");
    expect(s.pid()).toBeUndefined();
    await expect(health(s.port)).rejects.toThrow();
  });

  it("reports a server that cannot listen, with the log's reason", async () => {
    const s = await slot();
    const squatter = createServer((_request, response) => response.writeHead(404).end("not here")); // some other web server
    await new Promise<void>((resolve) => squatter.listen(s.port, "127.0.0.1", resolve));
    try {
      const failed = await sageDone(["jobmanager", "start", ...s.options]);
      expect(failed).toMatchObject({ code: 1 });
      expect(failed.stderr).toContain("the JobManager did not start (exit code 1)");
      expect(failed.stderr).toContain(`cannot listen on 127.0.0.1:${s.port}: the address is already in use`);
      expect(s.pid()).toBeUndefined();
    } finally {
      squatter.closeAllConnections();
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it("runs in the foreground until SIGTERM, then closes cleanly", async () => {
    const s = await slot();
    const run = sage(["jobmanager", "start", "--foreground", ...s.options]);
    await eventually(() => s.pid() === run.child.pid && /listening/.test(run.output().stderr));
    expect(await health(s.port)).toMatchObject({ status: "ok" });
    run.child.kill("SIGTERM");
    const { code, stdout } = await run.done;
    expect(code).toBe(0);
    expect(stdout).toContain("JobManager stopped");
    expect(s.pid()).toBeUndefined();
    expect(isAlive(run.child.pid!)).toBe(false);
  });

  it("writes its log as one JSON object a line with --log-format json, the job's id and name on its lines, and passes the format on through restart", async () => {
    const s = await slot();
    const bad = await sageDone(["jobmanager", "start", "--log-format", "yaml", ...s.options]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("option '--log-format <format>' argument 'yaml' is invalid. Allowed choices are text, json.");
    expect(s.pid()).toBeUndefined();

    expect((await sageDone(["jobmanager", "start", "--log-format", "json", ...s.options])).code).toBe(0);
    const pipeline = new URL("../fixtures/job-pipeline.ts", import.meta.url).pathname;
    expect((await sageDone(["job", "submit", pipeline, ...s.options])).code).toBe(0);
    expect((await sageDone(["jobmanager", "restart", "--log-format", "json", ...s.options])).code).toBe(0);
    // A name with a newline and a terminal escape: JSON escapes them, the line stays one line.
    const forged = "evil\n00:00:00.000 INFO  jobmanager: forged\u001b[2J";
    expect((await sageDone(["job", "submit", pipeline, "--name", forged, ...s.options])).code).toBe(0);
    const pid = s.pid()!;
    expect((await sageDone(["jobmanager", "stop", ...s.options])).code).toBe(0);
    await eventually(() => !isAlive(pid));

    const records = readFileSync(dataPaths(s.dataDir).log, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) expect(record).toMatchObject({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String), name: "jobmanager" });
    const messages = records.map((record) => record.msg);
    expect(messages.filter((msg) => String(msg).startsWith("JobManager listening on"))).toHaveLength(2);
    expect(messages.filter((msg) => msg === "JobManager stopped")).toHaveLength(2);
    const submitted = records.filter((record) => String(record.msg).endsWith(") submitted"));
    expect(submitted.map((record) => record.job_name)).toEqual(["job-pipeline", forged]);
    for (const { job, job_name: name } of submitted) {
      expect(job).toMatch(/^[0-9a-f-]{36}$/);
      const about = records.filter((record) => record.job === job);
      expect(about.map((record) => record.msg)).toEqual([`job ${name} (${job}) submitted`, `job ${name} (${job}) ended: finished`]);
      expect(about.every((record) => record.job_name === name && record.level === 30)).toBe(true);
    }
  });

  it("writes every line as JSON in the foreground with --log-format json, its failure included", async () => {
    const s = await slot();
    const run = sage(["jobmanager", "start", "--foreground", "--log-format", "json", ...s.options]);
    await eventually(() => s.pid() === run.child.pid && /listening/.test(run.output().stderr));
    run.child.kill("SIGTERM");
    const { code, stdout, stderr } = await run.done;
    expect(code).toBe(0);
    expect(stdout).toBe("");
    const messages = stderr.trimEnd().split("\n").map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual([`JobManager listening on http://127.0.0.1:${s.port} (data: ${s.dataDir})`, "JobManager received SIGTERM: stopping", "JobManager stopped"]);
    expect(isAlive(run.child.pid!)).toBe(false);

    const squatter = createServer((_request, response) => response.writeHead(404).end("not here"));
    await new Promise<void>((resolve) => squatter.listen(s.port, "127.0.0.1", resolve));
    try {
      const failed = await sageDone(["jobmanager", "start", "--foreground", "--log-format", "json", ...s.options]);
      expect(failed.code).toBe(1);
      const lines = failed.stderr.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.at(-1)).toMatchObject({ level: 50, code: "E_ADDRESS_IN_USE", msg: `cannot listen on 127.0.0.1:${s.port}: the address is already in use` });
      // In the background the start reports the log's message, not its JSON.
      const background = await sageDone(["jobmanager", "start", "--log-format", "json", ...s.options]);
      expect(background.code).toBe(1);
      expect(background.stderr).toContain(`the log says:\n  cannot listen on 127.0.0.1:${s.port}: the address is already in use`);
    } finally {
      squatter.closeAllConnections();
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
