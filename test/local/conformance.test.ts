import { describe, expect, it } from "vitest";
import { LocalEnvironment } from "../../src/index.js";
import { pipelineCases } from "../conformance/cases.js";
import { byValue } from "../conformance/special-values.js";


describe("local mode - pipeline conformance", () => {
  it.each(pipelineCases.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const env = new LocalEnvironment(testCase.name.slice(0, 20), { logLevel: "warn" });
    const results: unknown[] = [];
    testCase.build(env, (record) => void results.push(record));
    const job = await env.submit({ autostop: true, timeoutMs: 10_000 });
    const status = await job.status();
    expect(status).toMatchObject({ state: "finished", tasks: 0, services: 0, isRunning: false });
    testCase.check?.(results);
    if (testCase.expected) {
      if (testCase.ordered) expect(results).toEqual(testCase.expected);
      else expect([...results].sort(byValue)).toEqual([...testCase.expected].sort(byValue));
    }
  });
});
