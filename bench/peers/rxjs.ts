/** RxJS 7 peers. */
import { filter, from, map, mergeMap, Observable, range, type OperatorFunction } from "rxjs";
import { Checksum } from "../lib/checksum.js";
import type { PrepareFn } from "../lib/types.js";
import { RunningSum, w1Filter, w1Map, w1Source } from "../workloads/w1.js";
import { createW2Agent, fetchW2, W2_CONCURRENCY, W2Sink, type W2Reply } from "../workloads/w2.js";
import { w3Source, w3Step } from "../workloads/w3.js";

/** Subscribes to `source$` and resolves once it completed. */
function drain<T>(source$: Observable<T>, next: (value: T) => void): Promise<void> {
  return new Promise((resolve, reject) => source$.subscribe({ next, error: reject, complete: resolve }));
}

/** W1 from `source(n)`: map -> filter -> stateful map -> subscribe. */
function w1RxjsFrom(source: (n: number) => Observable<number>): PrepareFn {
  return () => ({
    async run(n) {
      const state = new RunningSum();
      const sink = new Checksum();
      await drain(
        source(n).pipe(
          map(w1Map),
          filter(w1Filter),
          map((y) => state.add(y)),
        ),
        (v) => sink.add(v),
      );
      return { checksum: sink.value };
    },
  });
}

/** W1 over `range`. */
export const w1Rxjs = w1RxjsFrom((n) => range(0, n));

/**
 * W1 fed by a generator like the natural SAGE variant's (`from(generator)`): RxJS on the same
 * source as SAGE's natural row, where `range` has no iterator protocol to pay.
 */
export const w1RxjsGenerator = w1RxjsFrom((n) => from(w1Source(n)));

/** Re-emits `{ index, value }` items in index order (indexes 0, 1, 2, ... each exactly once). */
function inIndexOrder<T>(): OperatorFunction<{ index: number; value: T }, T> {
  return (source$) =>
    new Observable<T>((subscriber) => {
      const early = new Map<number, T>();
      let next = 0;
      return source$.subscribe({
        next: ({ index, value }) => {
          if (index !== next) {
            early.set(index, value);
            return;
          }
          subscriber.next(value);
          next++;
          while (early.has(next)) {
            const held = early.get(next) as T;
            early.delete(next);
            subscriber.next(held);
            next++;
          }
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

/** W2 with mergeMap(…, 64): completion order, not input order. */
export const w2RxjsMergeMap: PrepareFn = ({ httpPort }) => {
  const agent = createW2Agent();
  const port = httpPort!;
  return {
    async run(n) {
      const sink = new W2Sink();
      await drain(
        range(0, n).pipe(mergeMap((x) => fetchW2(agent, port, x), W2_CONCURRENCY)),
        (reply) => sink.add(reply),
      );
      return { checksum: sink.checksum, info: { inOrder: sink.inOrder } };
    },
    dispose: () => agent.destroy(),
  };
};

/** W2 with mergeMap(…, 64) followed by a reorder buffer: input order, like concatMap. */
export const w2RxjsOrdered: PrepareFn = ({ httpPort }) => {
  const agent = createW2Agent();
  const port = httpPort!;
  return {
    async run(n) {
      const sink = new W2Sink();
      await drain(
        range(0, n).pipe(
          mergeMap((x, index) => fetchW2(agent, port, x).then((value): { index: number; value: W2Reply } => ({ index, value })), W2_CONCURRENCY),
          inIndexOrder(),
        ),
        (reply) => sink.add(reply),
      );
      return { checksum: sink.checksum, info: { inOrder: sink.inOrder } };
    },
    dispose: () => agent.destroy(),
  };
};

/** W3 from `source(n)`: map(get + put) -> subscribe. */
function w3RxjsFrom(source: (n: number) => Observable<number>): PrepareFn {
  return async () => {
    // Imported here: the KV class extends BaseService, and only W3 children should load SAGE.
    const { KvService } = await import("../workloads/kv-service.js");
    return {
      async run(n) {
        const kv = new KvService();
        const sink = new Checksum();
        await drain(
          source(n).pipe(map((x) => w3Step(kv, x))),
          (v) => sink.add(v),
        );
        return { checksum: sink.value };
      },
    };
  };
}

/** W3 over `range`. */
export const w3Rxjs = w3RxjsFrom((n) => range(0, n));

/** W3 fed by a generator like the natural SAGE variant's (see w1RxjsGenerator). */
export const w3RxjsGenerator = w3RxjsFrom((n) => from(w3Source(n)));
