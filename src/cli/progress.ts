import type { JobHandle, JobStatus } from "../api/types.js";
import { jobHeadline, operatorLines, placementLine } from "./format.js";
import { LiveBlock } from "./live-block.js";
import { EtaEstimator, progressLine } from "./job-progress.js";
import { TERMINAL_STATES } from "../api/job-state.js";


/** Shows the jobs `sage run` started: a live block on a terminal, plain log lines otherwise. */
export interface ProgressDisplay {
  track(job: JobHandle, first: JobStatus): void;
  /** Prints a notice (e.g. about Ctrl-C) without breaking the display. */
  notice(message: string): void;
  /** Final summary; restores the terminal. */
  close(finals: JobStatus[]): void;
}

/** Picks the live display on a terminal, plain lines otherwise. */
export function createProgressDisplay(out: NodeJS.WriteStream): ProgressDisplay {
  return out.isTTY ? new LiveDisplay(out) : new LogDisplay(out);
}

/** Redraws one line per operator under the program's own output, at most every 150 ms. */
class LiveDisplay implements ProgressDisplay {
  readonly #jobs = new Map<string, { job: JobHandle; status: JobStatus; eta: EtaEstimator; etaMs?: number }>();
  readonly #timer: NodeJS.Timeout;
  readonly #restore: Array<() => void> = [];
  readonly #write: (text: string) => void;
  readonly #block: LiveBlock;

  constructor(out: NodeJS.WriteStream) {
    const direct = out.write.bind(out) as (text: string) => boolean;
    this.#write = (text) => void direct(text);
    this.#block = new LiveBlock(out, this.#write);
    // The pipeline prints too: erase the block before any of its writes; the timer redraws it.
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      stream.write = ((...args: Parameters<typeof original>) => {
        this.#erase();
        return original.apply(stream, args);
      }) as typeof original;
      this.#restore.push(() => (stream.write = original));
    }
    this.#timer = setInterval(() => void this.#refresh(), 150);
    this.#timer.unref();
  }

  track(job: JobHandle, first: JobStatus): void {
    this.#jobs.set(job.id, { job, status: first, eta: new EtaEstimator() });
    this.#draw();
  }

  notice(message: string): void {
    this.#erase();
    this.#write(`${message}\n`);
    this.#draw();
  }

  close(finals: JobStatus[]): void {
    clearInterval(this.#timer);
    this.#block.close();
    for (const final of finals) {
      const entry = this.#jobs.get(final.id);
      if (entry) entry.status = final;
    }
    this.#erase();
    for (const restore of this.#restore) restore();
    for (const { status } of this.#jobs.values()) {
      this.#write(`${jobHeadline(status)}\n`);
      for (const line of operatorLines(status, this.#block.width - 2)) this.#write(`  ${line}\n`);
      const placement = placementLine(status);
      if (placement) this.#write(`  ${placement}\n`);
    }
  }

  async #refresh(): Promise<void> {
    for (const entry of this.#jobs.values()) {
      if (TERMINAL_STATES.has(entry.status.state)) continue;
      const status = await entry.job.status();
      entry.status = status;
      entry.etaMs = entry.eta.update(status);
    }
    this.#erase();
    this.#draw();
  }

  #draw(): void {
    if (this.#block.visible) return;
    const lines: string[] = [];
    for (const { status, etaMs } of this.#jobs.values()) {
      lines.push(`▶ ${jobHeadline(status)}`);
      const progress = status.isRunning ? progressLine(status, etaMs) : undefined;
      if (progress) lines.push(`  ${progress}`);
      for (const line of operatorLines(status, this.#block.width - 2)) lines.push(`  ${line}`);
    }
    this.#block.draw(lines);
  }

  #erase(): void {
    this.#block.erase();
  }
}

/** Plain lines for logs and CI: one when a job starts, one per state change, a summary at the end. */
class LogDisplay implements ProgressDisplay {
  constructor(private readonly out: NodeJS.WriteStream) {}

  readonly #reported = new Set<string>();

  track(job: JobHandle, first: JobStatus): void {
    // A job whose setup failed never started (it has no start time): its summary says what happened.
    if (first.startedAt !== undefined) this.out.write(`[sage] job ${first.name} (${first.id.slice(0, 8)}) started: ${first.operators.map((op) => op.name).join(", ")}\n`);
    // After wait(), not at the terminal event: a remote job's output is printed by then.
    void job.wait().then(
      (status) => this.#summary(status),
      () => {},
    );
  }

  notice(message: string): void {
    this.out.write(`[sage] ${message}\n`);
  }

  close(finals: JobStatus[]): void {
    for (const status of finals) this.#summary(status);
  }

  #summary(status: JobStatus): void {
    if (this.#reported.has(status.id)) return;
    this.#reported.add(status.id);
    this.out.write(`[sage] ${jobHeadline(status)}\n`);
    for (const line of operatorLines(status)) this.out.write(`[sage]   ${line}\n`);
    const placement = placementLine(status);
    if (placement) this.out.write(`[sage]   ${placement}\n`);
  }
}
