import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { JobFailedError, LocalEnvironment, type DataStream } from "../../src/index.js";
import { JsonlSink } from "../../src/llm/jsonl-sink.js";
import { JsonlSource } from "../../src/llm/jsonl-source.js";
import { TextFileSource, type TextFile, type TextLine } from "../../src/llm/text-file-source.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sage-files-"));
  dirs.push(dir);
  return dir;
}

async function collect<T>(build: (env: LocalEnvironment) => DataStream<any>): Promise<T[]> {
  const env = new LocalEnvironment("files", { logLevel: "warn" });
  const out: T[] = [];
  build(env).sink((x: T) => void out.push(x));
  await env.submit({ autostop: true, timeoutMs: 20_000 });
  return out;
}

describe("JsonlSource", () => {
  it("reads every line of a file larger than its chunks, across CRLF, blank lines and multi-byte characters", async () => {
    const dir = tempDir();
    const path = join(dir, "data.jsonl");
    // 3,000 lines of about 100 bytes: many 64 KiB chunks, lines and characters cut at chunk ends.
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i, text: `Grüße 🌍 ${"x".repeat(i % 97)}`, tag: i % 3 }));
    writeFileSync(path, lines.map((l, i) => (i % 500 === 0 ? `${l}\r\n\n` : `${l}\n`)).join(""));
    const records = await collect<{ id: number; text: string; tag: number }>((env) => env.fromBatch(JsonlSource, { args: [{ path }] }));
    expect(records).toHaveLength(3000);
    expect(records.map((r) => r.id)).toEqual(lines.map((_, i) => i));
    expect(records[1234]).toEqual(JSON.parse(lines[1234]!));
  });

  it("reports its progress in bytes of the file: growing while it reads, all of it at the end", async () => {
    const path = join(tempDir(), "big.jsonl");
    writeFileSync(path, Array.from({ length: 4000 }, (_, i) => JSON.stringify({ id: i, pad: "p".repeat(60) })).join("\n"));
    const size = readFileSync(path).length;
    const env = new LocalEnvironment("progress", { logLevel: "warn", metricsIntervalMs: 10, batchSize: 64 });
    env
      .fromBatch(JsonlSource, { args: [{ path }], name: "lines" })
      .map(async (r: unknown) => (await new Promise((resolve) => setTimeout(resolve, 0)), r), { concurrency: 16 })
      .sink(() => {});
    const job = await env.submit();
    const seen: number[] = [];
    for await (const event of job.events()) {
      if (event.type === "log") continue;
      const progress = event.status.operators.find((op) => op.name === "lines")!.progress;
      if (progress) {
        expect(progress).toMatchObject({ total: size, unit: "bytes" });
        seen.push(progress.done);
      }
    }
    expect(seen.some((done) => done > 0 && done < size)).toBe(true);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect((await job.status()).operators[0]!.progress).toEqual({ done: size, total: size, unit: "bytes" });
  });

  it("keeps only the fields asked for", async () => {
    const path = join(tempDir(), "q.jsonl");
    writeFileSync(path, '{"query":"a?","references":["a"],"noise":1}\n{"query":"b?","noise":2}');
    const records = await collect((env) => env.fromBatch(JsonlSource, { args: [{ path, fields: ["query", "references"] }] }));
    expect(records).toEqual([{ query: "a?", references: ["a"] }, { query: "b?" }]);
  });

  it("streams: the first records flow while the file is still being written", async () => {
    const dir = tempDir();
    const fifo = join(dir, "live.jsonl");
    execFileSync("mkfifo", [fifo]);
    const writer = createWriteStream(fifo);
    let firstSeen!: () => void;
    const seen = new Promise<void>((resolve) => (firstSeen = resolve));
    const env = new LocalEnvironment("fifo", { logLevel: "warn" });
    const out: unknown[] = [];
    env.fromBatch(JsonlSource, { args: [{ path: fifo }] }).sink((record) => {
      out.push(record);
      if (out.length === 1) firstSeen();
    });
    const job = env.submit({ autostop: true, timeoutMs: 20_000 });
    writer.write('{"n":1}\n');
    // A source that read the whole file first would wait for its end, which comes only after this.
    await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error("no record before the end of the file")), 10_000))]);
    expect(out).toEqual([{ n: 1 }]);
    writer.end('{"n":2}\n');
    await job;
    expect(out).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("fails the job naming the file and line of invalid JSON, and of a missing file", async () => {
    const path = join(tempDir(), "bad.jsonl");
    writeFileSync(path, '{"ok":1}\n\n{"ok":2\n{"ok":3}\n');
    const failed = await collect((env) => env.fromBatch(JsonlSource, { args: [{ path }] })).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(JobFailedError);
    expect((failed as JobFailedError).status.error?.message).toContain(`JsonlSource: ${path} line 3 is not valid JSON`);
    const missing = await collect((env) => env.fromBatch(JsonlSource, { args: [{ path: `${path}.nope` }] })).catch((error: unknown) => error);
    expect((missing as JobFailedError).status.error?.message).toContain(`JsonlSource: cannot read ${path}.nope: ENOENT`);
    expect(() => new JsonlSource({ path: "" })).toThrow("JsonlSource needs { path: string, fields?: string[] }");
  });
});

describe("TextFileSource", () => {
  function corpus(): string {
    const dir = tempDir();
    mkdirSync(join(dir, "docs", "deep"), { recursive: true });
    writeFileSync(join(dir, "docs", "b.md"), "# B\n\nbee line\n");
    writeFileSync(join(dir, "docs", "a.txt"), "alpha\n   \nbeta\r\ngamma");
    writeFileSync(join(dir, "docs", "deep", "c.md"), "sea");
    writeFileSync(join(dir, "docs", ".hidden.md"), "never");
    return dir;
  }

  it("gives one record per line of a file, with its number, skipping blank lines", async () => {
    const path = join(corpus(), "docs", "a.txt");
    const lines = await collect<TextLine>((env) => env.fromBatch(TextFileSource, { args: [{ path }] }));
    expect(lines).toEqual([
      { path, line: 1, text: "alpha" },
      { path, line: 3, text: "beta" },
      { path, line: 4, text: "gamma" },
    ]);
    const all = await collect<TextLine>((env) => env.fromBatch(TextFileSource, { args: [{ path, skipEmpty: false }] }));
    expect(all.map((l) => l.text)).toEqual(["alpha", "   ", "beta", "gamma"]);
  });

  it("gives one record per file of a directory or glob, in path order, and lines of many files on request", async () => {
    const dir = corpus();
    const docs = join(dir, "docs");
    const files = await collect<TextFile>((env) => env.fromBatch(TextFileSource, { args: [{ path: docs }] }));
    expect(files).toEqual([
      { path: join(docs, "a.txt"), text: "alpha\n   \nbeta\r\ngamma" },
      { path: join(docs, "b.md"), text: "# B\n\nbee line\n" },
      { path: join(docs, "deep", "c.md"), text: "sea" },
    ]);
    const markdown = await collect<TextFile>((env) => env.fromBatch(TextFileSource, { args: [{ path: `${docs}/**/*.md` }] }));
    expect(markdown.map((f) => f.path)).toEqual([join(docs, "b.md"), join(docs, "deep", "c.md")]);
    const top = await collect<TextFile>((env) => env.fromBatch(TextFileSource, { args: [{ path: `${docs}/*.{md,txt}` }] }));
    expect(top.map((f) => f.path)).toEqual([join(docs, "a.txt"), join(docs, "b.md")]);
    const lines = await collect<TextLine>((env) => env.fromBatch(TextFileSource, { args: [{ path: `${docs}/**/*.md`, per: "line" }] }));
    expect(lines.map((l) => `${l.line}:${l.text}`)).toEqual(["1:# B", "3:bee line", "1:sea"]);
  });

  it("fails the job when a glob matches nothing", async () => {
    const dir = corpus();
    const failed = await collect((env) => env.fromBatch(TextFileSource, { args: [{ path: `${dir}/*.pdf` }] })).catch((error: unknown) => error);
    expect((failed as JobFailedError).status.error?.message).toContain(`TextFileSource: no file matches '${dir}/*.pdf'`);
  });
});

describe("JsonlSink", () => {
  it("writes one JSON line per record into a new directory, complete when the job ends, appending on the next run", async () => {
    const path = join(tempDir(), "out", "nested", "answers.jsonl");
    const run = async (records: unknown[], append?: boolean) => {
      const env = new LocalEnvironment("sink", { logLevel: "warn" });
      env.fromBatch(records).sink(JsonlSink, { args: [{ path, append }] });
      await env.submit({ autostop: true });
    };
    const many = Array.from({ length: 20_000 }, (_, i) => ({ i, text: `answer ${i}` }));
    await run(many);
    const written = readFileSync(path, "utf8").split("\n");
    expect(written).toHaveLength(20_001); // the last line ends with a newline too
    expect(written.slice(0, -1).map((l) => JSON.parse(l))).toEqual(many);
    await run(["more"]);
    expect(readFileSync(path, "utf8").split("\n").at(-2)).toBe('"more"');
    await run([{ fresh: true }], false);
    expect(readFileSync(path, "utf8")).toBe('{"fresh":true}\n');
  });

  it("gives parallel instances their own files with {instance}, and refuses values JSON cannot hold", async () => {
    const dir = tempDir();
    const env = new LocalEnvironment("sink-parallel", { logLevel: "warn" });
    env.fromBatch(Array.from({ length: 100 }, (_, i) => i)).sink(JsonlSink, { args: [{ path: join(dir, "part-{instance}.jsonl") }], parallelism: 2 });
    await env.submit({ autostop: true });
    const parts = [0, 1].map((i) => readFileSync(join(dir, `part-${i}.jsonl`), "utf8").trim().split("\n").map(Number));
    expect(parts[0]!.length).toBeGreaterThan(0);
    expect(parts[1]!.length).toBeGreaterThan(0);
    expect([...parts[0]!, ...parts[1]!].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));

    const bad = new LocalEnvironment("sink-bad", { logLevel: "silent" });
    bad.fromBatch([() => 1]).sink(JsonlSink, { args: [{ path: join(dir, "bad.jsonl") }] });
    const failed = await bad.submit({ autostop: true }).catch((error: unknown) => error);
    expect((failed as JobFailedError).status.error?.message).toContain("JsonlSink: a function cannot be written as JSON");
  });
});
