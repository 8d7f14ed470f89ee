import { OperatorError } from "../../api/errors.js";
import { compileFactory } from "../codegen.js";
import type { OperatorCounters } from "../metrics.js";
import type { DirectRead, SourceReader } from "../source-reader.js";
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
  /**
   * Compiled when first asked for: a run fed by its source's own loop (see sourceLoop) may never
   * be pushed to, and a compile it does not need is time a short job in a fresh process pays.
   * The compiled loop then shadows this getter, so a caller calls it directly (no wrapper frame
   * in a failure's stack, no indirection per batch).
   */
  get push(): Push {
    const push = compileRun(this.#parts, this);
    Object.defineProperty(this, "push", { value: push });
    return push;
  }

  readonly #parts: readonly FusableParts[];

  readonly #next: Stage;

  constructor(parts: readonly FusableParts[], next: Stage) {
    this.#parts = parts;
    this.#next = next;
  }

  /**
   * A loop that reads a sync source record by record straight through this run: no batch array
   * between the source and the first operator.
   */
  sourceLoop(reader: SourceReader, counters: OperatorCounters, failSource: (error: unknown) => Error): SourcePull | undefined {
    return reader.direct ? compileSourceLoop(this.#parts, this, reader.direct, reader, counters, failSource) : undefined;
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

  /** Sends what the loop produced on to the next stage. */
  emit(out: unknown[], outKeys: unknown[] | undefined): void | Promise<void> {
    if (out.length === 0) return;
    const last = this.#parts[this.#parts.length - 1]!;
    if (last.kind !== "sink") last.env.counters.recordsOut += out.length;
    return this.#next.push(out, outKeys, 0);
  }

  /**
   * Counts what the loop saw from the records it finished and the records each stage dropped:
   * `entered` records went into stage 0, `dropped[j]` of them ended at stage j (a filter said no, a
   * map returned nothing), and the record in flight (if `reached >= 0`) entered stages 0..reached.
   * Counting drops instead of every stage's input keeps the per-record work of the loop down to
   * one increment for the stages that pass everything on.
   */
  count(entered: number, dropped: readonly number[], reached: number): void {
    let passing = entered;
    for (let j = 0; j < this.#parts.length; j++) {
      const n = passing + (j <= reached ? 1 : 0);
      this.#parts[j]!.env.counters.recordsIn += n;
      if (j > 0) this.#parts[j - 1]!.env.counters.recordsOut += n;
      passing -= dropped[j] ?? 0;
    }
  }

  /** Continues a batch generically from record `index`, whose result at stage `at` is pending. */
  async bail(at: number, index: number, pending: unknown, record: unknown, records: unknown[], keys: unknown[] | undefined, input: number, out: unknown[], outKeys: unknown[] | undefined): Promise<void> {
    const flushed = this.emit(out, outKeys);
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

interface RunCode {
  /** The statement that flushes the counts: `entered` finished records, the in-flight one at stage `reached`. */
  counts(entered: string, reached: string): string;
  /**
   * The loop body after `x` holds the record. At a thenable from stage j it sets `bailAt = j` and
   * leaves the loop: the bail itself is written once, after the loop, which keeps the loop's
   * bytecode small (V8 tiers a function up after work in proportion to its size, and compiles a
   * smaller one sooner: both count in a short job).
   */
  steps: string;
  /** Declarations of the loop's locals. */
  locals: string;
  names: string[];
  values: unknown[];
}

// typeof first: a record that is a number or a string leaves after one test (bytecodes a short
// job runs unoptimized for its first many records).
const thenable = (v: string) => `(typeof ${v} === "object" && ${v} !== null && typeof ${v}.then === "function")`;

/** Whether a record can end at this stage of a run (and so needs a drop counter). */
const canDrop = (part: FusableParts) => part.kind === "map" || part.kind === "filter";

// No closures inside the generated loops: a captured counter would live in a heap context
// instead of a register.
function runCode(parts: readonly FusableParts[]): RunCode {
  const last = parts.length - 1;
  const emitsKeys = parts[last]!.kind === "keyBy";
  const dropList = `[${parts.map((part, j) => (canDrop(part) ? `d${j}` : "0")).join(", ")}]`;
  return {
    counts: (entered, reached) => `run.count(${entered}, ${dropList}, ${reached});`,
    locals: `const out = []; const outKeys = ${emitsKeys ? "[]" : "undefined"}; ${parts.map((part, j) => (canDrop(part) ? `let d${j} = 0;` : "")).join(" ")} let at = 0, i = 0, bailAt = -1, x, r, k;`,
    steps:
      parts
        .map((part, j) => {
          const invoke = part.instance ? `f${j}.execute(x, x${j})` : `f${j}(x, x${j})`;
          const call = `at = ${j}; r = ${invoke};`;
          const bail = `if (${thenable("r")}) { bailAt = ${j}; break; }`;
          switch (part.kind) {
            case "map":
              return `${call} ${bail} if (r === undefined) { d${j}++; continue; } x = r;`;
            case "filter":
              return `${call} ${bail} if (!r) { d${j}++; continue; }`;
            case "keyBy":
              return `${call} if (${thenable("r")}) throw new TypeError("a key selector must return its key synchronously, not a promise"); k = r;`;
            case "sink":
              return `${call} ${bail} continue;`;
          }
        })
        .join("\n          ") + `\n          out.push(x);${emitsKeys ? " outKeys.push(k);" : ""}`,
    names: parts.flatMap((_, j) => [`f${j}`, `x${j}`]),
    values: parts.flatMap((part) => [part.instance ?? part.fn, part.ctx]),
  };
}

function compileRun(parts: readonly FusableParts[], run: FusedRun): Push {
  const code = runCode(parts);
  const source = `
    return function push(records, keys, input) {
      if (run.busy()) return first.push(records, keys, input);
      const n = records.length;
      ${code.locals}
      try {
        for (; i < n; i++) {
          x = records[i];
          ${code.steps}
        }
      } catch (error) {
        ${code.counts("i", "at")}
        throw run.fail(at, error);
      }
      if (bailAt >= 0) {
        ${code.counts("i", "bailAt")}
        return run.bail(bailAt, i, r, x, records, keys, input, out, outKeys);
      }
      ${code.counts("n", "-1")}
      return run.emit(out, outKeys);
    };`;
  return compileFactory<Push>(["run", "first", ...code.names], source)(run, parts[0]!.stage, ...code.values);
}

/** Reads up to `max` records from a sync source straight through a run; see FusedRun.sourceLoop. */
export type SourcePull = (max: number) => typeof SOURCE_MORE | typeof SOURCE_DONE | typeof SOURCE_GENERIC | Promise<unknown>;

/** The source may have more records. */
export const SOURCE_MORE = "more";
/** The source is exhausted. */
export const SOURCE_DONE = "done";
/** The fused loop cannot run now (async work queued, or an async record carried): pull generically. */
export const SOURCE_GENERIC = "generic";

/**
 * The first call reads only this many records, so that the end of a batch has run, and has type
 * feedback, before V8 optimizes the loop. A first call over a whole batch gets the loop
 * optimized while it still runs, without feedback for the end of the batch, and that code is
 * thrown away at its first batch end and compiled again: in a short job (a bounded source in a
 * fresh process) the second compile is a good part of the time.
 */
const FIRST_BATCH = 16;

/** What the generated source loop hands back at the end of a batch it completed. */
interface BatchOutput {
  read: number;
  out: unknown[];
  outKeys: unknown[] | undefined;
  /** Records each stage dropped (see FusedRun.count), written in place: no array per batch. */
  readonly drops: number[];
}

function compileSourceLoop(parts: readonly FusableParts[], run: FusedRun, read: DirectRead, reader: SourceReader, counters: OperatorCounters, failSource: (error: unknown) => Error): SourcePull {
  const code = runCode(parts);
  // A generator's next() is the same function for every generator, but each generator function
  // gives its objects a map of its own: called as `src.next()`, the loop (shared by every job
  // of this shape) is deoptimized at each new job's generator, and goes megamorphic after four.
  const generatorNext = read.kind === "iterator" && Object.prototype.toString.call(read.source) === "[object Generator]" ? read.source.next : undefined;
  const next =
    read.kind === "execute"
      ? `x = src.execute();
          if (x === null || x === undefined) { status = DONE; break; }
          if (${thenable("x")}) { reader.carry(x); break; }`
      : `st = ${generatorNext ? "next.call(src)" : "src.next()"};
          if (st.done) { status = DONE; break; }
          x = st.value;`;
  // No count of records read is kept per record: record i is read once its next() returned, so
  // i records were read at the loop's end and at a failing next(), and i + 1 inside a record.
  // Only the loop is generated: the once-per-batch work (is the run busy, counting, emitting)
  // stays in the wrapper below, out of the code V8 compiles while records wait for it.
  const source = `
    return function pullThrough(max) {
      ${code.locals}
      let st, status = MORE;
      try {
        for (; i < max; i++) {
          at = -1;
          ${next}
          ${code.steps}
        }
      } catch (error) {
        if (at < 0) { counters.recordsOut += i; ${code.counts("i", "-1")} throw failSource(error); }
        counters.recordsOut += i + 1;
        ${code.counts("i", "at")}
        throw run.fail(at, error);
      }
      if (bailAt >= 0) {
        counters.recordsOut += i + 1;
        ${code.counts("i", "bailAt")}
        return run.bail(bailAt, i, r, x, NONE, undefined, 0, out, outKeys);
      }
      batch.read = i; batch.out = out; batch.outKeys = outKeys;
      ${parts.map((part, j) => (canDrop(part) ? `batch.drops[${j}] = d${j};` : "")).join(" ")}
      return status;
    };`;
  const batch: BatchOutput = { read: 0, out: [], outKeys: undefined, drops: new Array<number>(parts.length).fill(0) };
  const loop = compileFactory<(max: number) => unknown>(
    ["run", "src", "next", "reader", "counters", "failSource", "MORE", "DONE", "NONE", "batch", ...code.names],
    source,
  )(run, read.source, generatorNext, reader, counters, failSource, SOURCE_MORE, SOURCE_DONE, [], batch, ...code.values);
  let first = true;
  return (max) => {
    if (reader.carrying || run.busy()) return SOURCE_GENERIC;
    if (first) {
      first = false;
      max = Math.min(max, FIRST_BATCH);
    }
    const status = loop(max);
    // Anything else is the promise of a batch that went async: the loop counted it already.
    if (status !== SOURCE_MORE && status !== SOURCE_DONE) return status as Promise<unknown>;
    counters.recordsOut += batch.read;
    run.count(batch.read, batch.drops, -1);
    const { out, outKeys } = batch;
    batch.out = NO_RECORDS;
    batch.outKeys = undefined;
    const emitted = run.emit(out, outKeys);
    return emitted ? emitted.then(() => status) : status;
  };
}

const NO_RECORDS: unknown[] = [];
