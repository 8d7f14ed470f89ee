import type { WorkCounter } from "../metrics.js";
import type { Stage } from "../stages/stage.js";
import { NO_WORK_TRACKING } from "../metrics.js";

/** One counter that counts on each of `counters` (a task inside a loop and a served pipeline counts for both). */
export function combinedWork(counters: readonly WorkCounter[]): WorkCounter {
  const live = counters.filter((c) => c !== NO_WORK_TRACKING);
  if (live.length === 0) return NO_WORK_TRACKING;
  if (live.length === 1) return live[0]!;
  return {
    acquire(count) {
      for (const c of live) c.acquire(count);
    },
    release(count) {
      for (const c of live) c.release(count);
    },
  };
}

/**
 * The head of a served pipeline's source task: the endpoint counted each request as work when
 * the source took it; that unit is released once the push that carries it on has settled (by
 * then whatever it became is counted downstream: a channel batch, an async call). A push that
 * fails keeps its units: the job fails, and its callers must get that error, not "no answer".
 */
export function releasingHead(head: Stage, work: WorkCounter): Stage {
  return {
    push(records, keys, input) {
      const pending = head.push(records, keys, input);
      if (!pending) return work.release(records.length);
      return pending.then(() => work.release(records.length));
    },
    end: () => head.end(),
  };
}
