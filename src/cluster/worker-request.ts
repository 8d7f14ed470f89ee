import { jobEnvProblems } from "./job-env.js";
import type { JobHostOptions, WorkerRequest } from "./protocol.js";

// A job id goes into subject names and environment values: no dots, wildcards or spaces.
const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Reads a WorkerRequest from the JSON a driver sent; answers what is wrong with it instead when malformed. */
export function parseWorkerRequest(data: string): { ok: true; request: WorkerRequest } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return { ok: false, error: "a worker request must be JSON" };
  }
  if (!isRecord(raw)) return { ok: false, error: "a worker request must be a JSON object" };
  if (typeof raw.jobId !== "string" || !JOB_ID.test(raw.jobId)) return { ok: false, error: "the request's jobId must be 1-128 characters of A-Z, a-z, 0-9, _ and -" };
  const jobId = raw.jobId;
  switch (raw.type) {
    case "stop-host":
      return { ok: true, request: { type: "stop-host", jobId } };
    case "start-host": {
      if (!(Number.isInteger(raw.slots) && (raw.slots as number) >= 1)) return { ok: false, error: "start-host needs slots: a whole number of at least 1" };
      const problem = hostProblem(raw.host, jobId);
      if (problem) return { ok: false, error: `start-host: ${problem}` };
      return { ok: true, request: { type: "start-host", jobId, slots: raw.slots as number, host: raw.host as JobHostOptions } };
    }
    default:
      return { ok: false, error: `unknown worker request type ${JSON.stringify(raw.type)} (expected start-host or stop-host)` };
  }
}

// --- internal ---

function hostProblem(host: unknown, jobId: string): string | undefined {
  if (!isRecord(host)) return "host must be an object (JobHostOptions)";
  if (host.jobId !== jobId) return "host.jobId must be the request's jobId";
  for (const field of ["bundle", "pipelineName", "graphFingerprint"] as const) {
    if (typeof host[field] !== "string") return `host.${field} must be a string`;
  }
  if (!(Number.isInteger(host.pipelineIndex) && (host.pipelineIndex as number) >= 0)) return "host.pipelineIndex must be a whole number";
  if (!(typeof host.leaseMs === "number" && host.leaseMs > 0 && Number.isFinite(host.leaseMs))) return "host.leaseMs must be a positive number";
  if (host.env !== undefined) {
    const problem = jobEnvProblems(host.env);
    if (problem) return `host.env: ${problem}`;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
