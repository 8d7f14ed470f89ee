import type { JobHistory, JobStatus, ServerInfo } from "./types.js";

/** A refusal or failure of an API call, with the server's code and message when it gave them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** How a job is stopped: a drain lets in-flight work finish, an abort cancels it. */
export type StopMode = "drain" | "abort";

/** The JobManager's HTTP API, every call with `Authorization: Bearer <token>`. */
export class ApiClient {
  readonly #token: string;
  readonly #onUnauthorized: (message: string) => void;

  constructor(token: string, onUnauthorized: (message: string) => void = () => {}) {
    this.#token = token;
    this.#onUnauthorized = onUnauthorized;
  }

  /** Server facts: version, uptime, job counts, processes, cluster. */
  info(): Promise<ServerInfo> {
    return this.#call("GET", "/api/info");
  }

  /** Every job, oldest first. */
  jobs(): Promise<JobStatus[]> {
    return this.#call("GET", "/api/jobs");
  }

  /** One job's status. */
  job(id: string): Promise<JobStatus> {
    return this.#call("GET", jobPath(id));
  }

  /** A job's sampled numbers over its life. */
  history(id: string): Promise<JobHistory> {
    return this.#call("GET", `${jobPath(id)}/history`);
  }

  /** Log lines from number `since` on, and the number to ask for next. */
  logs(id: string, since = 0): Promise<{ lines: string[]; next: number }> {
    return this.#call("GET", `${jobPath(id)}/logs?since=${since}`);
  }

  /** Stops a job; resolves with its final status once it ended. */
  stop(id: string, mode: StopMode): Promise<JobStatus> {
    return this.#call("POST", `${jobPath(id)}/stop`, { mode });
  }

  /** Forgets an ended job (its record, log and history). */
  remove(id: string): Promise<{ deleted: string }> {
    return this.#call("DELETE", jobPath(id));
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, ...(body !== undefined && { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, "E_UNREACHABLE", `cannot reach the JobManager (${error instanceof Error ? error.message : String(error)})`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiError(response.status, "E_BAD_RESPONSE", `the JobManager answered ${response.status} with something that is not JSON`);
    }
    if (response.ok) return parsed as T;
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const failure = new ApiError(response.status, typeof error?.code === "string" ? error.code : "E_HTTP", typeof error?.message === "string" ? error.message : `HTTP ${response.status}`);
    if (response.status === 401) this.#onUnauthorized(failure.message);
    throw failure;
  }
}

/** The API path of a job. */
export function jobPath(id: string): string {
  return `/api/jobs/${encodeURIComponent(id)}`;
}
