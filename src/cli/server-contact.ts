import { JobManagerError } from "../api/errors.js";

/** Whether `error` says the JobManager could not be reached (refused, reset, timed out): a later attempt may find it again. */
export function isTransient(error: unknown): boolean {
  return error instanceof JobManagerError && error.serverCode === "E_UNREACHABLE";
}

/**
 * When a follower last heard from its JobManager, and how long it keeps trying without an answer:
 * a server that froze or restarts for a while is waited for, one gone for good is given up on.
 */
export class ServerContact {
  #heard = Date.now();

  constructor(
    /** How long without any answer before requests stop being retried. */
    readonly giveUpMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  /** Something came from the server. */
  heard(): void {
    this.#heard = Date.now();
  }

  /** Whether the server has been silent for longer than giveUpMs (or following was stopped). */
  get lost(): boolean {
    return this.signal?.aborted === true || Date.now() - this.#heard > this.giveUpMs;
  }

  /**
   * Runs `request` until it succeeds, fails for good, or the server has been silent for giveUpMs,
   * retrying transient failures with a short backoff; the last failure then says how long it waited.
   */
  async retrying<T>(request: () => Promise<T>): Promise<T> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        const result = await request();
        this.heard();
        return result;
      } catch (error) {
        if (!isTransient(error)) throw error;
        if (this.lost) throw this.gaveUp(error);
        await this.pause(delay);
      }
    }
  }

  /** The error to end with after `error` (transient) outlasted giveUpMs. */
  gaveUp(error: unknown): unknown {
    if (this.signal?.aborted || !(error instanceof JobManagerError)) return error;
    const cause = error.message.replace(/^(?:cannot reach the JobManager at \S+|event stream to \S+ failed): /, "");
    return new JobManagerError(0, "E_UNREACHABLE", `no answer for ${Math.round(this.giveUpMs / 1000)} s while following the job, last: ${cause}`, { cause: error });
  }

  /** Waits `ms`, or less if following is stopped. */
  pause(ms: number): Promise<void> {
    const signal = this.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
