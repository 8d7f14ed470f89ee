import type { PartitionKind } from "../../graph/execution-graph.js";
import { partitionOf } from "../hash.js";
import type { ChannelSender } from "../transport.js";
import type { Stage } from "./stage.js";
import type { TaskClock } from "../task-clock.js";

/** One outgoing edge of a task instance: its partitioning and one sender per reachable target instance. */
export interface RouterOutput {
  partition: PartitionKind;
  /** For `forward`, the single counterpart; otherwise indexed by target instance. */
  senders: ChannelSender[];
  /** For `hash`: turns a key that cannot be hashed into the error of the operator that made it. */
  keyError?: (error: unknown) => Error;
}

/** The tail of every chain that has outputs: spreads each batch over the outgoing edges. */
export class RouterStage implements Stage {
  #roundRobin = 0;

  constructor(
    private readonly outputs: readonly RouterOutput[],
    /** Times the waits on full downstream inboxes (backpressure). */
    private readonly clock?: TaskClock,
  ) {}

  push(records: unknown[], keys: unknown[] | undefined): void | Promise<void> {
    let pending: Array<void | Promise<void>> | undefined;
    const wait = (p: void | Promise<void>) => {
      if (p) (pending ??= []).push(p);
    };
    for (const output of this.outputs) {
      const senders = output.senders;
      switch (output.partition) {
        case "forward":
          wait(senders[0]!.send(records, keys));
          break;
        case "rebalance":
          this.#sendRebalanced(records, senders, wait);
          break;
        case "broadcast":
          for (const sender of senders) wait(sender.send(records, undefined));
          break;
        case "hash":
          if (senders.length === 1) wait(senders[0]!.send(records, keys));
          else this.#sendPartitioned(records, keys!, senders, wait, output.keyError);
          break;
      }
    }
    if (pending === undefined) return;
    const waiting = pending.length === 1 ? pending[0]! : Promise.all(pending).then(ignore);
    return this.clock ? this.clock.blockedOn(waiting) : waiting;
  }

  /** Sends end-of-stream on every channel. */
  async end(): Promise<void> {
    const pending: Array<void | Promise<void>> = [];
    for (const output of this.outputs) for (const sender of output.senders) pending.push(sender.end());
    await Promise.all(pending);
  }

  // Contiguous slices, one per instance, so even a short batch of slow records spreads out;
  // the starting instance rotates so batches smaller than the parallelism spread too.
  #sendRebalanced(records: unknown[], senders: readonly ChannelSender[], wait: (p: void | Promise<void>) => void): void {
    const n = senders.length;
    const start = this.#roundRobin++;
    if (records.length < 2 * n) {
      for (let i = 0; i < records.length; i++) wait(senders[(start + i) % n]!.send([records[i]], undefined));
      return;
    }
    const size = Math.ceil(records.length / n);
    for (let j = 0; j < n; j++) {
      const slice = records.slice(j * size, (j + 1) * size);
      if (slice.length > 0) wait(senders[(start + j) % n]!.send(slice, undefined));
    }
  }

  #sendPartitioned(
    records: unknown[],
    keys: unknown[],
    senders: readonly ChannelSender[],
    wait: (p: void | Promise<void>) => void,
    keyError: ((error: unknown) => Error) | undefined,
  ): void {
    const n = senders.length;
    const parts: unknown[][] = Array.from({ length: n }, () => []);
    const partKeys: unknown[][] = Array.from({ length: n }, () => []);
    try {
      for (let i = 0; i < records.length; i++) {
        const p = partitionOf(keys[i], n);
        parts[p]!.push(records[i]);
        partKeys[p]!.push(keys[i]);
      }
    } catch (error) {
      throw keyError ? keyError(error) : error;
    }
    for (let p = 0; p < n; p++) if (parts[p]!.length > 0) wait(senders[p]!.send(parts[p]!, partKeys[p]));
  }
}

function ignore(): void {}
