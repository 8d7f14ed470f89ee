/** Remote mode - `GET /metrics`: Prometheus text behind the bearer token, agreeing with the job's status. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseHistogram, parsePrometheus } from "../support/prometheus.js";
import { bundleSource, closeTestServer, makeRepoTmpDir, request, SAGE_IMPORT, startTestServer, untilJobProcessEnded, type TestServer } from "./helpers.js";

describe("remote mode - Prometheus metrics", () => {
  let server: TestServer | undefined;
  let tmp: string;

  beforeAll(async () => {
    server = await startTestServer();
    tmp = makeRepoTmpDir();
  });

  afterAll(() => closeTestServer(server, tmp));

  it("answers only with the token", async () => {
    const answer = await request(server!, "GET", "/metrics", { token: null });
    expect(answer.status).toBe(401);
    expect(JSON.stringify(answer.body)).not.toContain("sage_");
  });

  it("serves a finished job's operator and service counts as its status gives them", async () => {
    const code = await bundleSource(
      tmp,
      "prom-job",
      `import { BaseService, LocalEnvironment } from ${JSON.stringify(SAGE_IMPORT)};
class Upper extends BaseService {
  upper(text: string): string { this.incrementMetric("uppercased"); return text.toUpperCase(); }
}
const env = new LocalEnvironment("prom-job", { logLevel: "warn" });
env.registerService("upper", Upper);
env.fromBatch(Array.from({ length: 30 }, (_, i) => "w" + i))
  .filter((w: string) => !w.endsWith("7"))
  .map((w: string, ctx) => ctx.service<Upper>("upper").upper(w))
  .map(async (w: string) => { await new Promise((r) => setTimeout(r, 2)); return w; }, { name: "Wait", parallelism: 2, concurrency: 3 })
  .sink(() => {});
await env.submit({ autostop: true });
`,
    );
    const created = await request(server!, "POST", "/api/jobs", { body: { name: "prom-job", code, options: {} } });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const status = (await untilJobProcessEnded(server!, id))!;
    expect(status.state).toBe("finished");

    const response = await fetch(`${server!.baseUrl}/metrics`, { headers: { authorization: `Bearer ${server!.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await response.text();
    const families = parsePrometheus(text);
    const series = (name: string) => families.get(name)!.metrics.filter((m) => m.labels?.job === id);
    for (const operator of status.operators) {
      const of = (name: string) => Number(series(name).find((m) => m.labels!.operator === operator.name)!.value);
      expect(of("sage_operator_records_in_total")).toBe(operator.recordsIn);
      expect(of("sage_operator_records_out_total")).toBe(operator.recordsOut);
      expect(of("sage_operator_errors_total")).toBe(operator.errors);
    }
    expect(status.operators.find((op) => op.kind === "filter")!.recordsOut).toBe(27);
    // per instance, and the async operator's latency histogram, as the status has them
    const wait = status.operators.find((op) => op.name === "Wait")!;
    expect(wait.instances).toHaveLength(2);
    for (const instance of wait.instances!) {
      const found = series("sage_instance_records_in_total").find((m) => m.labels!.operator === "Wait" && m.labels!.instance === String(instance.index))!;
      expect(Number(found.value)).toBe(instance.recordsIn);
    }
    const histogram = parseHistogram(text, "sage_operator_latency_seconds", { job: id, job_name: "prom-job", operator: "Wait", kind: "map" })!;
    expect(Number(histogram.count)).toBe(27);
    expect(Number(histogram.count)).toBe(wait.latency!.count);
    expect(Number(histogram.buckets["0.001"])).toBe(0); // each waited 2 ms at least
    expect(status.edges).toContainEqual({ from: "Wait", to: expect.stringMatching(/^sink/), partition: "rebalance" });
    const service = status.serviceDetails!.find((s) => s.name === "upper")!;
    expect(Number(series("sage_service_calls_total").find((m) => m.labels!.service === "upper")!.value)).toBe(service.calls);
    expect(Number(series("sage_service_metric").find((m) => m.labels!.metric === "uppercased")!.value)).toBe(27);
    expect(series("sage_job_state")).toEqual([{ value: "1", labels: { job: id, job_name: "prom-job", state: "finished" } }]);
    expect(Number(families.get("sage_jobs")!.metrics.find((m) => m.labels!.state === "finished")!.value)).toBeGreaterThanOrEqual(1);
  });
});
