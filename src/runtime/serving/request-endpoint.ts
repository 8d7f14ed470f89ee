import type { ServiceRequest } from "../../api/pipeline-service.js";
import type { Logger } from "../../api/types.js";
import type { WorkCounter } from "../metrics.js";
import { CALL_ABANDONED } from "../service-host.js";

interface Entry {
  readonly id: string;
  readonly payload: unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** waiting: not yet taken by the source; taken: inside the pipeline; abandoned: its caller gave up. */
  state: "waiting" | "taken" | "abandoned" | "settled";
}

/**
 * The requests of one pipeline served as a service: the caller side (`submit`, a promise per
 * request), the source side (an async iterable of request envelopes, taken while fewer than
 * `maxPending` are inside the pipeline) and the reply side (`answer` by id).
 *
 * It also counts the pipeline's in-flight work (it is the region's WorkCounter: a unit per request
 * taken until the source pushed it on, per batch on a channel inside the pipeline, per async call
 * of its operators). When that count falls to zero nothing of the pipeline is working on any
 * request: those still unanswered were dropped (a filter, a map returning undefined), and are
 * answered `undefined`.
 */
export class RequestEndpoint implements WorkCounter {
  /** Requests not yet taken, oldest first from `#head`; abandoned ones stay until they are reached. */
  #waiting: Entry[] = [];
  #head = 0;
  #waitingCount = 0;
  readonly #taken = new Map<string, Entry>();
  #work = 0;
  #nextId = 0;
  #closed = false;
  #failure: Error | undefined;
  #consumer: ((step: IteratorResult<ServiceRequest>) => void) | undefined;
  readonly #counts = { requests: 0, answered: 0, dropped: 0, timedOut: 0 };
  /** The object callers reach as the service. */
  readonly service: PipelineServiceObject;

  constructor(
    readonly name: string,
    private readonly maxPending: number,
    private readonly logger: Logger,
    /** Told each time the pipeline may have become idle (see `idle`). */
    private readonly onIdle: () => void,
  ) {
    this.service = new PipelineServiceObject(this);
  }

  /** Nothing waits, nothing is inside the pipeline, and no work of it is in flight. */
  get idle(): boolean {
    return this.#waitingCount === 0 && this.#taken.size === 0 && this.#work === 0;
  }

  /** Counters of the service, with the requests pending inside the pipeline and those waiting for room. */
  metrics(): Record<string, number> {
    return { ...this.#counts, pending: this.#taken.size, waiting: this.#waitingCount };
  }

  /** A caller's request: resolves with the pipeline's answer (undefined if the pipeline dropped it). */
  submit(payload: unknown): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error(`service '${this.name}' is closed: its pipeline takes no more requests`));
    let entry!: Entry;
    const answer = new Promise<unknown>((resolve, reject) => {
      entry = { id: String(++this.#nextId), payload, resolve, reject, state: "waiting" };
    });
    Object.defineProperty(answer, CALL_ABANDONED, { value: () => this.#abandon(entry) });
    this.#counts.requests++;
    this.#waiting.push(entry);
    this.#waitingCount++;
    this.#feed();
    return answer;
  }

  /** The requests as the serving pipeline's source reads them; ends once the endpoint is closed and drained. */
  requests(): AsyncIterable<ServiceRequest> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => this.#next(),
        return: () => {
          this.#consumer?.({ done: true, value: undefined });
          this.#consumer = undefined;
          return Promise.resolve({ done: true as const, value: undefined });
        },
      }),
    };
  }

  /** Answers request `id` (a reply to an unknown, answered or abandoned request is dropped). */
  answer(id: string, value: unknown): void {
    const entry = this.#taken.get(id);
    if (!entry) {
      this.logger.debug("service '%s': no caller waits for request %s (answered already, or its caller gave up)", this.name, id);
      return;
    }
    this.#taken.delete(id);
    if (entry.state === "taken") {
      entry.state = "settled";
      this.#counts.answered++;
      entry.resolve(value);
    }
    this.#feed();
  }

  /** Takes no more requests; the source ends once those already sent are taken. */
  close(): void {
    this.#closed = true;
    this.#feed();
  }

  /** Rejects every request still waiting or inside the pipeline with `error`, and ends the source. */
  fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#closed = true;
    for (const entry of [...this.#waiting.slice(this.#head), ...this.#taken.values()]) {
      if (entry.state !== "waiting" && entry.state !== "taken") continue;
      entry.state = "settled";
      entry.reject(error);
    }
    this.#waiting = [];
    this.#head = 0;
    this.#waitingCount = 0;
    this.#taken.clear();
    this.#feed();
  }

  acquire(count = 1): void {
    this.#work += count;
  }

  release(count = 1): void {
    this.#work -= count;
    if (this.#work === 0) this.#quiet();
  }

  // Nothing of the pipeline is working: a request still unanswered will never be.
  #quiet(): void {
    for (const entry of this.#taken.values()) {
      if (entry.state !== "taken") continue;
      entry.state = "settled";
      this.#counts.dropped++;
      this.logger.debug("service '%s': request %s left the pipeline without a reply; its answer is undefined", this.name, entry.id);
      entry.resolve(undefined);
    }
    this.#taken.clear();
    this.#feed();
    this.onIdle();
  }

  #next(): Promise<IteratorResult<ServiceRequest>> {
    const request = this.#take();
    if (request) return Promise.resolve({ done: false, value: request });
    if (this.#closed && this.#waitingCount === 0) return Promise.resolve({ done: true, value: undefined });
    if (this.#consumer) return Promise.reject(new Error(`internal: service '${this.name}' has a second reader`));
    return new Promise((resolve) => (this.#consumer = resolve));
  }

  // The next waiting request, while the pipeline has room; it counts as work until the source pushed it on.
  #take(): ServiceRequest | undefined {
    while (this.#waitingCount > 0 && this.#taken.size < this.maxPending) {
      const entry = this.#waiting[this.#head++]!;
      this.#compact();
      if (entry.state !== "waiting") continue; // abandoned while it waited
      this.#waitingCount--;
      entry.state = "taken";
      this.#taken.set(entry.id, entry);
      this.#work++;
      return { id: entry.id, payload: entry.payload };
    }
    return undefined;
  }

  #compact(): void {
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  }

  // Hands the waiting source its next request, or its end.
  #feed(): void {
    const consumer = this.#consumer;
    if (!consumer) return;
    const request = this.#take();
    if (request) {
      this.#consumer = undefined;
      consumer({ done: false, value: request });
    } else if (this.#closed && this.#waitingCount === 0) {
      this.#consumer = undefined;
      consumer({ done: true, value: undefined });
    }
  }

  #abandon(entry: Entry): void {
    if (entry.state === "settled" || entry.state === "abandoned") return;
    this.#counts.timedOut++;
    const waited = entry.state === "waiting";
    entry.state = "abandoned"; // a taken one stays counted as pending until it leaves the pipeline
    if (!waited) return;
    if (--this.#waitingCount === 0) {
      this.#waiting = [];
      this.#head = 0;
    }
    // Never taken, so nothing of the pipeline will see it: it leaves the queue (lazily) and may make it idle.
    if (this.idle) this.onIdle();
  }
}

/** The service object callers reach under the pipeline's name (see PipelineService). */
export class PipelineServiceObject {
  readonly #endpoint: RequestEndpoint;

  constructor(endpoint: RequestEndpoint) {
    this.#endpoint = endpoint;
  }

  /** Sends `request` through the pipeline; resolves with its answer. */
  process(request: unknown): Promise<unknown> {
    return this.#endpoint.submit(request);
  }

  /** Takes no more requests; those already sent are still answered. */
  close(): void {
    this.#endpoint.close();
  }

  /** The service's counters. */
  metrics(): Record<string, number> {
    return this.#endpoint.metrics();
  }

  /** At the job's end: whoever still waits learns it will get no answer. */
  cleanup(): void {
    this.#endpoint.fail(new Error(`the job ended before service '${this.#endpoint.name}' answered`));
  }
}
