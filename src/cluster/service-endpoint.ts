import { nuid, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { messageOf } from "../api/errors.js";
import type { ServiceHost } from "../runtime/service-host.js";
import { isThenable } from "../runtime/thenable.js";
import { decode, encode } from "./codec.js";
import { serveDiscovery, type DiscoveryStats } from "./service-discovery.js";
import { errorToWire, type ServiceRequest, type WireError } from "./service-wire.js";
import { subjects, token } from "./subjects.js";
import { monotonicMs } from "../runtime/monotonic-clock.js";

/** What a ServiceEndpoint serves. */
export interface ServiceEndpointOptions {
  jobId: string;
  /** A host whose setup() has finished. */
  host: ServiceHost;
  /** The worker it runs on (discovery metadata `sage_worker`). */
  worker: string;
  /** The version discovery reports (semver; default 0.1.0). */
  version?: string;
  /** How long the id of an ended re-sent call is kept, to drop its late copies (default 60 s). */
  copiesRememberedMs?: number;
  /** How many ids of ended re-sent calls are kept at most; the oldest go first (default 100,000). */
  maxCopies?: number;
}

/** Every instance of one service answers in this queue group: a re-created one takes over at once. */
export const SERVICE_QUEUE = "sage";
const ACCEPTED = encode({ accepted: true });
/** How long the id of an ended re-sent call is kept, to drop copies of it that arrive late. */
const COPIES_REMEMBERED_MS = 60_000;
// Every call carries an id for minutes after an instance loss: at a high call rate the ids of a
// minute are many. Past this bound the oldest ended ones go early (a copy that late is rare).
const MAX_COPIES = 100_000;

/**
 * Serves one set-up ServiceHost over NATS for a job: answers calls on subjects.service(job, name)
 * and the NATS service discovery subjects ($SRV.PING / INFO / STATS) until stop().
 * @remarks Requests are answered from the subscription callback: a sync method replies before the
 * next message is read, an async one replies when it settles, so calls overlap as far as the
 * host's mailbox (maxConcurrency) lets them. The host serializes; the endpoint never waits.
 */
export class ServiceEndpoint {
  /** Unique per instance: the discovery id. */
  readonly id = nuid.next();
  /** The subject calls arrive on. */
  readonly subject: string;
  readonly #nc: NatsConnection;
  readonly #host: ServiceHost;
  readonly #service: Subscription;
  readonly #discovery: Subscription[];
  readonly #started = new Date().toISOString();
  #requests = 0;
  #errors = 0;
  #lastError = "";
  #processingMs = 0;
  #inFlight = 0;
  /** Ids of the re-sent calls run here (see ServiceRequest.ack): 0 while running, then when they ended. */
  readonly #copies = new Map<string, number>();
  readonly #copiesRememberedMs: number;
  readonly #maxCopies: number;
  #pruneTimer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(nc: NatsConnection, options: ServiceEndpointOptions) {
    this.#nc = nc;
    this.#host = options.host;
    this.#copiesRememberedMs = options.copiesRememberedMs ?? COPIES_REMEMBERED_MS;
    this.#maxCopies = options.maxCopies ?? MAX_COPIES;
    const service = options.host.name;
    this.subject = subjects.service(options.jobId, service);
    this.#service = nc.subscribe(this.subject, {
      queue: SERVICE_QUEUE,
      callback: (error, msg) => {
        if (error === null) this.#onRequest(msg);
      },
    });
    this.#discovery = serveDiscovery(
      nc,
      {
        name: `sage-${token(service)}`,
        id: this.id,
        version: options.version ?? "0.1.0",
        description: `SAGE service '${service}' of job ${options.jobId}`,
        metadata: { sage_job: options.jobId, sage_service: service, sage_worker: options.worker },
        endpoint: { name: "call", subject: this.subject, queue_group: SERVICE_QUEUE },
      },
      () => this.#stats(),
    );
  }

  /** Starts serving `host`; resolves once the broker has the subscriptions (calls reach it from then on). */
  static async start(nc: NatsConnection, options: ServiceEndpointOptions): Promise<ServiceEndpoint> {
    const endpoint = new this(nc, options);
    await nc.flush();
    return endpoint;
  }

  /**
   * Stops answering calls and discovery; resolves once the calls already received have been
   * answered (or after `waitMs`, for a method that never settles under an infinite time limit).
   */
  stop(waitMs = 10_000): Promise<void> {
    return (this.#stopping ??= this.#stop(waitMs));
  }

  async #stop(waitMs: number): Promise<void> {
    clearInterval(this.#pruneTimer);
    if (!this.#nc.isClosed()) for (const subscription of this.#discovery) subscription.unsubscribe();
    try {
      // Drain: the broker stops routing here, and what it already sent is still handled.
      await this.#service.drain();
    } catch {
      // A closed connection delivers nothing more.
    }
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        timer = setTimeout(resolve, waitMs);
      });
      clearTimeout(timer);
    }
    if (!this.#nc.isClosed()) await this.#nc.flush().catch(() => undefined);
  }

  #onRequest(msg: Msg): void {
    const started = monotonicMs();
    this.#requests++;
    let request: ServiceRequest;
    try {
      request = decode<ServiceRequest>(msg.data);
      if (typeof request?.method !== "string" || !Array.isArray(request.args)) throw new Error("not a service request");
    } catch (error) {
      this.#answerError(msg, { kind: "call", service: this.#host.name, method: "?", message: `bad request: ${messageOf(error)}`, name: "Error" }, started);
      return;
    }
    const ack = request.ack;
    if (ack !== undefined) {
      this.#respond(msg, ACCEPTED);
      // A copy of a call this instance has (its caller did not hear ACCEPTED in time): run it once.
      if (!this.#firstCopy(ack)) {
        this.#requests--;
        return;
      }
    }
    let result: unknown;
    try {
      result = this.#host.call(request.method, request.args, request.timeoutMs);
    } catch (error) {
      this.#fail(msg, request.method, error, started);
      if (ack !== undefined) this.#copies.set(ack, monotonicMs());
      return;
    }
    if (!isThenable(result)) {
      this.#succeed(msg, request.method, result, started);
      if (ack !== undefined) this.#copies.set(ack, monotonicMs());
      return;
    }
    this.#inFlight++;
    const method = request.method;
    result.then(
      (value) => {
        this.#succeed(msg, method, value, started);
        this.#settled(ack);
      },
      (error: unknown) => {
        this.#fail(msg, method, error, started);
        this.#settled(ack);
      },
    );
  }

  #succeed(msg: Msg, method: string, value: unknown, started: number): void {
    let bytes: Uint8Array;
    try {
      bytes = encode({ value });
    } catch (error) {
      const message = `the value returned by ${this.#host.name}.${method}() cannot be sent over the cluster: ${messageOf(error)}`;
      this.#answerError(msg, { kind: "call", service: this.#host.name, method, message, name: error instanceof Error ? error.name : "Error" }, started);
      return;
    }
    this.#respond(msg, bytes);
    this.#processingMs += monotonicMs() - started;
  }

  #fail(msg: Msg, method: string, error: unknown, started: number): void {
    this.#answerError(msg, errorToWire(this.#host.name, method, error, this.#host.methodNames), started);
  }

  #answerError(msg: Msg, error: WireError, started: number): void {
    this.#errors++;
    this.#lastError = error.message;
    this.#respond(msg, encode({ error }));
    this.#processingMs += monotonicMs() - started;
  }

  #respond(msg: Msg, bytes: Uint8Array): void {
    if (!msg.reply) return;
    try {
      msg.respond(bytes);
    } catch {
      // The connection closed under the call: the caller times out or re-sends.
    }
  }

  #settled(ack: string | undefined): void {
    if (ack !== undefined) this.#copies.set(ack, monotonicMs());
    if (--this.#inFlight === 0 && this.#drained) this.#drained();
  }

  #firstCopy(ack: string): boolean {
    if (this.#copies.has(ack)) return false;
    this.#copies.set(ack, 0);
    if (this.#copies.size > this.#maxCopies) this.#pruneCopies(true);
    // Pruned on a timer over all ids: a call that never ends must not keep the others.
    if (this.#pruneTimer === undefined && this.#stopping === undefined) {
      this.#pruneTimer = setInterval(() => this.#pruneCopies(false), Math.min(this.#copiesRememberedMs, 10_000));
      this.#pruneTimer.unref();
    }
    return true;
  }

  // Forgets the ended calls whose copies can no longer be on their way; over the bound, the oldest ended ones too.
  #pruneCopies(overBound: boolean): void {
    const now = monotonicMs();
    for (const [id, ended] of this.#copies) {
      if (ended === 0) continue;
      if (now - ended >= this.#copiesRememberedMs || (overBound && this.#copies.size > this.#maxCopies)) this.#copies.delete(id);
    }
    if (this.#copies.size === 0) {
      clearInterval(this.#pruneTimer);
      this.#pruneTimer = undefined;
    }
  }

  #stats(): DiscoveryStats {
    return { requests: this.#requests, errors: this.#errors, lastError: this.#lastError, processingNs: Math.round(this.#processingMs * 1e6), started: this.#started };
  }
}
