/** Builders the display and status tests share: a job status to start from, and a fake terminal. */
import type { JobStatus, OperatorStatus } from "../../src/api/types.js";

/** A running job's status (three operators: a batch source, a map, a sink), with `overrides`. */
export function jobStatus(overrides: Partial<JobStatus> = {}): JobStatus {
  return {
    id: "0123456789abcdef",
    name: "demo",
    state: "running",
    autostop: true,
    platform: "local",
    submittedAt: "2026-01-01T00:00:00.000Z",
    runtimeMs: 1500,
    restartCount: 0,
    tasks: 2,
    services: 1,
    isRunning: true,
    operators: threeOperators("Embed", 1200, 1100, 2),
    ...overrides,
  };
}

/** Source -> `map` -> Save, with `records` read, `kept` passed on and `errors` in the map. */
export function threeOperators(map: string, records: number, kept: number, errors = 0): OperatorStatus[] {
  return [
    { name: "Source", kind: "batch", parallelism: 1, recordsIn: 0, recordsOut: records, errors: 0 },
    { name: map, kind: "map", parallelism: 4, recordsIn: records, recordsOut: kept, errors },
    { name: "Save", kind: "sink", parallelism: 1, recordsIn: kept, recordsOut: 0, errors: 0 },
  ];
}

/** A stand-in terminal (of `columns` columns, when given) that records what is written to it. */
export function fakeTerminal(columns?: number): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY: true, ...(columns !== undefined && { columns }), text: "", write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}
