import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { JobFailedError, LocalEnvironment } from "../../src/index.js";
import { ExactMatchEvaluate, F1Evaluate, RecallEvaluate, RougeLEvaluate } from "../../src/llm/answer-evaluators.js";
import { ContextRecallEvaluate } from "../../src/llm/context-recall-evaluate.js";
import { EvaluationReport, type EvaluationSummary } from "../../src/llm/evaluation-report.js";
import { LatencyEvaluate, markTime } from "../../src/llm/latency-evaluate.js";
import { TokenCountEvaluate } from "../../src/llm/token-count-evaluate.js";

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type Scored = Record<string, unknown> & { scores: Record<string, number> };

const qa = [
  { id: 1, generated: "Paris, France", references: ["Paris"], passages: [{ id: "p1", text: "Paris is the capital of France." }], facts: ["capital of France", "Seine"] },
  { id: 2, generated: { text: "the Eiffel Tower" }, references: "Eiffel Tower", passages: ["The Eiffel Tower stands in Paris."], facts: ["Eiffel Tower"] },
  { id: 3, generated: "Berlin", references: ["Rome", "Milan"], passages: [], facts: ["Colosseum"] },
];

function captureLogs(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

describe("evaluators", () => {
  it("add their scores to each record, chained, and report mean and count in the log, the report file and onReport", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sage-eval-"));
    dirs.push(dir);
    const logs = captureLogs();
    let reported: EvaluationSummary | undefined;
    const env = new LocalEnvironment("evaluate", { logLevel: "info" });
    env.registerService("evaluation", EvaluationReport, { args: [{ path: join(dir, "out", "eval.json"), onReport: (s: EvaluationSummary) => (reported = s) }] });
    const out: Scored[] = [];
    const report = { report: "evaluation" };
    env
      .fromBatch(qa)
      .map(ExactMatchEvaluate, { args: [report] })
      .map(F1Evaluate, { args: [report] })
      .map(RecallEvaluate, { args: [report] })
      .map(RougeLEvaluate, { args: [report] })
      .map(TokenCountEvaluate, { args: [report] })
      .map(ContextRecallEvaluate, { args: [{ ...report, references: "facts" }] })
      .sink((record) => void out.push(record as Scored));
    await env.submit({ autostop: true });

    expect(out.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(out[0]!.scores).toEqual({ exactMatch: 0, f1: 2 / 3, recall: 1, rougeL: 2 / 3, tokens: 3, contextRecall: 0.5 });
    expect(out[1]!.scores).toEqual({ exactMatch: 1, f1: 1, recall: 1, rougeL: 1, tokens: 3, contextRecall: 1 });
    expect(out[2]!.scores).toEqual({ exactMatch: 0, f1: 0, recall: 0, rougeL: 0, tokens: 1, contextRecall: 0 });
    expect(out[0]!.generated).toBe("Paris, France"); // the rest of the record is kept

    const summary = JSON.parse(readFileSync(join(dir, "out", "eval.json"), "utf8")) as EvaluationSummary;
    expect(summary).toEqual(reported);
    expect(summary.f1).toEqual({ count: 3, mean: (2 / 3 + 1) / 3, min: 0, max: 1, sum: 2 / 3 + 1, skipped: 0 });
    expect(summary.exactMatch!.mean).toBeCloseTo(1 / 3, 12);
    expect(summary.tokens).toMatchObject({ count: 3, sum: 7, p50: 3, p99: 3 });
    expect(summary.contextRecall!.mean).toBeCloseTo(0.5, 12);
    // One line from each evaluator instance, one from the report.
    const f1Lines = logs.filter((l) => l.includes("f1: mean 0.5556 over 3 records (min 0, max 1)"));
    expect(f1Lines).toHaveLength(2);
    expect(f1Lines.some((l) => l.includes(" F1Evaluate_0: f1"))).toBe(true);
    expect(f1Lines.some((l) => l.includes(" evaluation: f1"))).toBe(true); // the service logs under its name
  });

  it("merge the aggregates of parallel instances in the report", async () => {
    let reported: EvaluationSummary | undefined;
    const env = new LocalEnvironment("evaluate-parallel", { logLevel: "warn" });
    env.registerService("evaluation", EvaluationReport, { args: [{ onReport: (s: EvaluationSummary) => (reported = s) }] });
    const records = Array.from({ length: 200 }, (_, i) => ({ generated: i % 4 === 0 ? "yes" : "no", references: "yes" }));
    env.fromBatch(records).map(ExactMatchEvaluate, { args: [{ report: "evaluation" }], parallelism: 3 }).sink(() => {});
    await env.submit({ autostop: true });
    expect(reported!.exactMatch).toMatchObject({ count: 200, mean: 0.25, sum: 50, min: 0, max: 1 });
  });

  it("measure latency from a markTime() stamp to arrival, or between two fields, with percentiles", async () => {
    let reported: EvaluationSummary | undefined;
    const env = new LocalEnvironment("latency", { logLevel: "warn" });
    env.registerService("evaluation", EvaluationReport, { args: [{ onReport: (s: EvaluationSummary) => (reported = s) }] });
    const out: Scored[] = [];
    env
      .fromBatch(Array.from({ length: 10 }, (_, i) => ({ i, delay: i === 9 ? 120 : 30 })))
      .map(markTime())
      .map(async (r) => {
        await new Promise((resolve) => setTimeout(resolve, r.delay));
        return r;
      })
      .map(LatencyEvaluate, { args: [{ report: "evaluation" }] })
      .sink((r) => void out.push(r as Scored));
    await env.submit({ autostop: true });
    const latencies = out.map((r) => r.scores.latencyMs!);
    expect(latencies.slice(0, 9).every((ms) => ms >= 29 && ms < 400)).toBe(true);
    expect(latencies[9]).toBeGreaterThanOrEqual(119);
    expect(reported!.latencyMs).toMatchObject({ count: 10, p50: latencies.slice(0, 9).sort((a, b) => a - b)[4], p99: latencies[9] });

    const fields = new LatencyEvaluate({ start: "t0", end: "t1" }).execute({ t0: 1000, t1: 1250.5 });
    expect(fields).toEqual({ t0: 1000, t1: 1250.5, scores: { latencyMs: 250.5 } });
    expect(new LatencyEvaluate({ duration: "took", metric: "ms" }).execute({ took: 42 })).toEqual({ took: 42, scores: { ms: 42 } });
  });

  it("count context recall by passage id, and read answers and references from the fields named", () => {
    const byId = new ContextRecallEvaluate({ by: "id", references: "relevant" });
    expect(byId.execute({ passages: [{ id: "a" }, { id: "b" }, { id: 7 }], relevant: ["a", "c", 7, "d"] }).scores).toEqual({ contextRecall: 0.5 });
    // Whole words only: "cat" is not found in "category".
    expect(new ContextRecallEvaluate().execute({ passages: ["a category of things"], references: ["cat"] }).scores).toEqual({ contextRecall: 0 });
    const named = new F1Evaluate({ prediction: "output.answer", references: "gold", metric: "answerF1", scores: "eval" });
    expect(named.execute({ output: { answer: "Paris" }, gold: "paris", eval: { other: 1 } })).toEqual({ output: { answer: "Paris" }, gold: "paris", eval: { other: 1, answerF1: 1 } });
  });

  it("fail the job on a record without its inputs, naming the field, or let it pass counted as skipped", async () => {
    const env = new LocalEnvironment("missing", { logLevel: "silent" });
    env.fromBatch([{ generated: "x", references: ["x"] }, { answer: "y" }]).map(F1Evaluate).sink(() => {});
    const failed = await env.submit({ autostop: true }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(JobFailedError);
    expect((failed as JobFailedError).status.error?.message).toContain(
      "F1Evaluate: a record has no text (a string or { text }) in 'generated' (give the field's name in the options, or skipMissing: true)",
    );

    const skipping = new F1Evaluate({ skipMissing: true });
    expect(skipping.execute({ answer: "y" })).toEqual({ answer: "y" });
    skipping.execute({ generated: "y", references: "y" });
    expect(skipping.summary()).toMatchObject({ count: 1, mean: 1, skipped: 1 });
    expect(() => new F1Evaluate().execute("text" as never)).toThrow("F1Evaluate takes records that are objects with 'generated' (the answer) and 'references' (reference answers), not string");
  });

  it("publish flat counters for the job status", () => {
    const report = new EvaluationReport();
    report.add("f1", { count: 2, sum: 1, min: 0, max: 1, skipped: 0 });
    report.add("f1", { count: 2, sum: 2, min: 1, max: 1, skipped: 1 });
    report.add("latencyMs", { count: 3, sum: 60, min: 10, max: 30, skipped: 0, values: [10, 30, 20] });
    expect(report.metrics()).toEqual({ "f1.mean": 0.75, "f1.count": 4, "latencyMs.mean": 20, "latencyMs.count": 3, "latencyMs.p50": 20, "latencyMs.p99": 30 });
    expect(report.summary().f1).toEqual({ count: 4, mean: 0.75, min: 0, max: 1, sum: 3, skipped: 1 });
  });
});
