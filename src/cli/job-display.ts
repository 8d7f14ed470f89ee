import type { JobStatus } from "../api/types.js";
import { jobHeadline, operatorLines } from "./format.js";
import { LiveBlock } from "./live-block.js";
import { EtaEstimator, progressLine } from "./job-progress.js";

/** Shows one remote job's status as it changes; a failure's message is left to the caller's error line (see failureText). */
export interface JobDisplay {
  update(status: JobStatus): void;
  /** Writes other output (e.g. the job's log lines) to `stream` without breaking the display. */
  print(stream: NodeJS.WritableStream, text: string): void;
  /** Shows the final status for good (a failure's message is left to the error line that follows). */
  close(final: JobStatus): void;
}

/** A block redrawn in place on a terminal, a line per state change otherwise. */
export function createJobDisplay(out: NodeJS.WriteStream): JobDisplay {
  return out.isTTY ? new LiveJobDisplay(out) : new LineJobDisplay(out);
}

/** Redraws the headline and one line per operator, with rates, under the output printed so far. */
class LiveJobDisplay implements JobDisplay {
  #status: JobStatus | undefined;
  readonly #eta = new EtaEstimator();
  #etaMs: number | undefined;
  readonly #block: LiveBlock;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.#block = new LiveBlock(out);
  }

  update(status: JobStatus): void {
    this.#status = status;
    this.#etaMs = this.#eta.update(status);
    this.#erase();
    this.#draw();
  }

  print(stream: NodeJS.WritableStream, text: string): void {
    this.#erase();
    stream.write(text);
    this.#draw();
  }

  close(final: JobStatus): void {
    this.#erase();
    this.#block.close();
    this.out.write(`${jobHeadline(final, false)}\n`);
    for (const line of operatorLines(final, this.#block.width - 2)) this.out.write(`  ${line}\n`);
  }

  #draw(): void {
    if (!this.#status) return;
    const progress = this.#status.isRunning ? progressLine(this.#status, this.#etaMs) : undefined;
    this.#block.draw([
      `▶ ${jobHeadline(this.#status)}`,
      ...(progress ? [`  ${progress}`] : []),
      ...operatorLines(this.#status, this.#block.width - 2).map((line) => `  ${line}`),
    ]);
  }

  #erase(): void {
    this.#block.erase();
  }
}

/** Plain lines for logs and pipes: the headline at each state change, operators at the end. */
class LineJobDisplay implements JobDisplay {
  #state: string | undefined;

  constructor(private readonly out: NodeJS.WritableStream) {}

  update(status: JobStatus): void {
    if (status.state === this.#state) return;
    this.#state = status.state;
    this.out.write(`[sage] ${jobHeadline(status, false)}\n`);
  }

  print(stream: NodeJS.WritableStream, text: string): void {
    stream.write(text);
  }

  close(final: JobStatus): void {
    this.update(final);
    for (const line of operatorLines(final)) this.out.write(`[sage]   ${line}\n`);
  }
}
