import type { Logger } from "../api/types.js";
import { OperatorError, messageOf } from "../api/errors.js";
import type { OperatorCounters, WorkCounter } from "./metrics.js";
import { DONE, IDLE, type Pulled, type SourceReader } from "./source-reader.js";
import type { Stage } from "./stages/stage.js";
import { delay, isThenable, yieldToEventLoop } from "./thenable.js";
import type { Inbox } from "./transport.js";
import type { FunctionHooks } from "./user-function.js";
import type { LoopTracker } from "./loop-tracker.js";
import type { TaskClock } from "./task-clock.js";
import { SOURCE_DONE, SOURCE_GENERIC, type SourcePull } from "./stages/fused-run.js";
import { monotonicMs } from "./monotonic-clock.js";

/** A stage function's hooks as a task opens and closes them. */
export interface ClosableStage {
  /** The operator's name, for errors. */
  operator: string;
  hooks: FunctionHooks | undefined;
  close(): Promise<void>;
}

/** What a task instance shares with the job. */
export interface TaskEnv {
  /** Fired when sources must stop producing (drain) — and on abort. */
  readonly stopSignal: AbortSignal;
  /** Fired on abort: queued work is dropped. */
  readonly abortSignal: AbortSignal;
  readonly logger: Logger;
}

/** One parallel instance of a task: opens its functions, runs its loop, closes them. */
export abstract class TaskInstance {
  constructor(
    /** `<task name>#<index>`, for logs. */
    readonly name: string,
    protected readonly head: Stage,
    protected readonly stages: readonly ClosableStage[],
    protected readonly env: TaskEnv,
    /** Where its time goes; stopped when it ends, so an ended task counts neither busy nor idle. */
    protected readonly clock: TaskClock,
  ) {}

  #closing: Promise<void> | undefined;
  /** Part of a pipeline served as a service (not one of the job's callers). */
  serving = false;

  /** Runs to the end of input (or until aborted); rejects with the operator's error. */
  async run(): Promise<void> {
    try {
      for (const stage of this.stages) {
        if (this.env.abortSignal.aborted) return;
        await openStage(stage);
      }
      await this.loop();
    } catch (error) {
      await this.closeQuietly(); // a failing task still closes its functions (files, sockets)
      throw error;
    } finally {
      this.clock.stop();
      if (this.env.abortSignal.aborted) await this.closeQuietly();
    }
  }

  protected abstract loop(): Promise<void>;

  /**
   * Closes every function of this instance once, errors only logged: after a failure, and after
   * an abort, when the job calls it for every instance (calls still in flight are abandoned, so
   * close() does not wait for them).
   */
  closeQuietly(): Promise<void> {
    return (this.#closing ??= this.#closeAll());
  }

  async #closeAll(): Promise<void> {
    for (const stage of this.stages) {
      try {
        await stage.close();
      } catch (error) {
        this.env.logger.warn("close() after abort failed in %s: %s", this.name, messageOf(error));
      }
    }
  }
}

/** A task whose head reads channels: it ends once every input channel delivered end-of-stream. */
export class ChannelTask extends TaskInstance {
  constructor(
    name: string,
    head: Stage,
    stages: readonly ClosableStage[],
    env: TaskEnv,
    private readonly inbox: Inbox,
    private readonly expectedEnds: number,
    private readonly work: WorkCounter,
    private readonly loop_: LoopTracker | undefined,
    /** In a served pipeline: per input from inside it, the work its batches count for. */
    private readonly regionInputs: ReadonlyMap<number, WorkCounter> | undefined,
    clock: TaskClock,
  ) {
    super(name, head, stages, env, clock);
  }

  protected async loop(): Promise<void> {
    const { inbox, head, work } = this;
    const aborted = this.env.abortSignal;
    let open = this.expectedEnds;
    while (open > 0) {
      let message = inbox.poll();
      if (message === undefined) {
        this.clock.idleStart();
        message = await inbox.take();
        this.clock.idleEnd();
        if (message === undefined) return; // aborted
      }
      if (aborted.aborted) return;
      if (message.eos) {
        open--;
        // input -1 is the loop's own closing marker, not an outside channel.
        if (this.loop_ && !message.loop && message.input >= 0) this.loop_.outsideEnded();
        continue;
      }
      const pending = head.push(message.records, message.keys, message.input);
      if (pending) await pending;
      if (message.loop) work.release();
      this.regionInputs?.get(message.input)?.release();
    }
    if (!aborted.aborted) await head.end();
  }
}

/** A task whose head is a source: it ends when the source is exhausted or a stop is requested. */
export class SourceTask extends TaskInstance {
  constructor(
    name: string,
    head: Stage,
    stages: readonly ClosableStage[],
    env: TaskEnv,
    private readonly reader: SourceReader,
    private readonly counters: OperatorCounters,
    private readonly batchSize: number,
    /** Reads the source straight through a fused run, when both allow it. */
    private readonly fusedPull: SourcePull | undefined,
    clock: TaskClock,
  ) {
    super(name, head, stages, env, clock);
  }

  protected async loop(): Promise<void> {
    const { reader, head, counters, batchSize, fusedPull, clock } = this;
    const stop = this.env.stopSignal;
    let idleMs = 1;
    let lastYield = monotonicMs();
    try {
      while (!stop.aborted) {
        let status: unknown = fusedPull ? fusedPull(batchSize) : SOURCE_GENERIC;
        if (status === SOURCE_GENERIC) {
          let pulled: Pulled | Promise<Pulled>;
          try {
            pulled = reader.pull(batchSize);
            if (isThenable(pulled)) {
              // An async source's wait for its next records is waiting for input.
              clock.idleStart();
              try {
                pulled = await pulled;
              } finally {
                clock.idleEnd();
              }
            }
          } catch (error) {
            if (this.env.abortSignal.aborted) break; // the job no longer listens
            counters.errors++;
            throw new OperatorError(this.stages[0]!.operator, error);
          }
          if (this.env.abortSignal.aborted) break; // records read after an abort go nowhere
          const count = pulled.records.length;
          if (count > 0) {
            counters.recordsOut += count;
            const pending = head.push(pulled.records, undefined, 0);
            if (pending) await pending;
            idleMs = 1;
          }
          status = pulled.status;
        } else if (isThenable(status)) {
          status = await status; // async work of the run, or downstream's backpressure (timed by the router)
        }
        if (status === DONE || status === SOURCE_DONE) break;
        if (status === IDLE) {
          // "No record now": back off up to 50 ms, so an idle source does not spin.
          clock.idleStart();
          await delay(idleMs, stop);
          clock.idleEnd();
          idleMs = Math.min(idleMs * 2, 50);
          lastYield = monotonicMs();
        } else if (monotonicMs() - lastYield > 4) {
          // A sync source would otherwise hold the thread: let timers, I/O and other tasks run.
          await yieldToEventLoop();
          lastYield = monotonicMs();
        }
      }
    } finally {
      reader.dispose();
    }
    if (this.env.abortSignal.aborted) return;
    await this.stages[0]!.close(); // the source's own close(), before end-of-stream flows on
    await head.end();
  }
}

async function openStage(stage: ClosableStage): Promise<void> {
  try {
    await stage.hooks?.open?.();
  } catch (error) {
    throw new OperatorError(stage.operator, error);
  }
}
