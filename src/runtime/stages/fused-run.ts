import { OperatorError } from "../../api/errors.js";
import { compileFactory } from "../codegen.js";
import type { FusableParts, Stage } from "./stage.js";

type Push = (records: unknown[], keys: unknown[] | undefined, input: number) => void | Promise<void>;

/**
 * A run of consecutive map / filter / keyBy / sink stages compiled into ONE loop over the batch:
 * no intermediate arrays, and every user function is called from its own call site, so V8 can
 * inline it (a shared loop would see every user function and inline none). The loop is generated
 * with `new Function` from a fixed template: the only varying text is stage indices and kinds,
 * never user input; functions and contexts are passed in as parameters.
 *
 * The loop is the sync fast path. At the first thenable a function returns it hands over to the
 * generic stages it was built from (their ordered async windows), and while any of them still has
 * async work queued, whole batches take the generic path, so output order always holds.
 */
export class FusedRun implements Stage {
  readonly push: Push;
  readonly #parts: readonly FusableParts[];

  constructor(parts: readonly FusableParts[], next: Stage) {
    this.#parts = parts;
    this.push = compileRun(parts, next, this);
  }

  /** Ends the generic stages (flushing any async work), which ends `next`. */
  end(): void | Promise<void> {
    return this.#parts[0]!.stage.end();
  }

  /** Whether a stage of the run still has async work queued. */
  busy(): boolean {
    for (const part of this.#parts) if (part.stage.windowBusy) return true;
    return false;
  }

  /** Continues a batch generically from record `index`, whose result at stage `at` is pending. */
  async bail(at: number, index: number, pending: unknown, record: unknown, records: unknown[], keys: unknown[] | undefined, input: number, flush: () => void | Promise<void>): Promise<void> {
    const flushed = flush();
    if (flushed) await flushed;
    await this.#parts[at]!.stage.resume(record, pending);
    if (index + 1 < records.length && !this.#parts[0]!.env.abortSignal.aborted) {
      const rest = this.#parts[0]!.stage.push(records.slice(index + 1), keys?.slice(index + 1), input);
      if (rest) await rest;
    }
  }

  /** Tags an error with the operator of stage `at`. */
  fail(at: number, error: unknown): OperatorError {
    if (error instanceof OperatorError) return error;
    const part = this.#parts[at]!;
    part.env.counters.errors++;
    return new OperatorError(part.env.operator, error);
  }
}

/** Whether a stage can join a fused run. */
export function isFusable(stage: Stage): stage is Stage & { fusion(): FusableParts } {
  return typeof (stage as { fusion?: unknown }).fusion === "function";
}

function compileRun(parts: readonly FusableParts[], next: Stage, run: FusedRun): Push {
  const last = parts.length - 1;
  const emitsKeys = parts[last]!.kind === "keyBy";
  const endsInSink = parts[last]!.kind === "sink";
  const thenable = (v: string) => `(${v} !== null && typeof ${v} === "object" && typeof ${v}.then === "function")`;
  const flushCounts = parts.map((_, j) => `p${j}.env.counters.recordsIn += c${j};` + (j < last ? ` p${j}.env.counters.recordsOut += c${j + 1};` : "")).join("\n      ");
  const steps = parts
    .map((part, j) => {
      const invoke = part.instance ? `f${j}.execute(x, x${j})` : `f${j}(x, x${j})`;
      const call = `at = ${j}; c${j}++; r = ${invoke};`;
      const bail = `if (${thenable("r")}) { counts(); return run.bail(${j}, i, r, x, records, keys, input, emit); }`;
      switch (part.kind) {
        case "map":
          return `${call} ${bail} if (r === undefined) continue; x = r;`;
        case "filter":
          return `${call} ${bail} if (!r) continue;`;
        case "keyBy":
          return `${call} if (${thenable("r")}) throw new TypeError("a key selector must return its key synchronously, not a promise"); k = r;`;
        case "sink":
          return `${call} ${bail} continue;`;
      }
    })
    .join("\n        ");
  const source = `
    return function push(records, keys, input) {
      if (run.busy()) return first.push(records, keys, input);
      const n = records.length;
      const out = [];
      const outKeys = ${emitsKeys ? "[]" : "undefined"};
      ${parts.map((_, j) => `let c${j} = 0;`).join(" ")}
      let at = 0, i = 0, x, r, k;
      const counts = () => {
        ${flushCounts}
        ${parts.map((_, j) => `c${j} = 0;`).join(" ")}
      };
      const emit = () => {
        if (out.length === 0) return;
        p${last}.env.counters.recordsOut += ${endsInSink ? "0" : "out.length"};
        return next.push(out, outKeys, 0);
      };
      try {
        for (; i < n; i++) {
          x = records[i];
          ${steps}
          out.push(x);${emitsKeys ? " outKeys.push(k);" : ""}
        }
      } catch (error) {
        counts();
        throw run.fail(at, error);
      }
      counts();
      return emit();
    };`;
  const names = parts.flatMap((_, j) => [`f${j}`, `x${j}`, `p${j}`]);
  const values = parts.flatMap((part) => [part.instance ?? part.fn, part.ctx, part]);
  return compileFactory<Push>(["run", "next", "first", ...names], source)(run, next, parts[0]!.stage, ...values);
}
