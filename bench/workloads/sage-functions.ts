/** The function classes SAGE's W1 and W3 pipelines share, locally and on a JobManager. */
import { BatchFunction, MapFunction } from "../../src/index.js";
import { RunningSum } from "./w1.js";

/** A BatchFunction source counting 0..count-1 (`count` comes from `args`). */
export class CountingSource extends BatchFunction<number> {
  #next = 0;

  constructor(private readonly count: number) {
    super();
  }

  execute(): number | null {
    return this.#next < this.count ? this.#next++ : null;
  }
}

/** The keyed running sum as a function class: one state per parallel instance. */
export class RunningSumFunction extends MapFunction<number, number> {
  readonly #state = new RunningSum();

  execute(y: number): number {
    return this.#state.add(y);
  }
}

