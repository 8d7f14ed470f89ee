import { createInbox, type Msg, type NatsConnection, type QueuedIterator, type Status, type Subscription } from "@nats-io/nats-core";
import { ServiceCallError, ServiceCallTimeoutError, ServiceNotFoundError, messageOf } from "../api/errors.js";
import type { LocalServiceTransport } from "../runtime/local-service-transport.js";
import { createProxyBase } from "../runtime/service-proxy.js";
import type { CallOptions, ServiceTransport } from "../runtime/service-transport.js";
import { timerMs } from "../runtime/thenable.js";
import { decode, encode } from "./codec.js";
import { errorFromWire, type ServiceReply } from "./service-wire.js";
import { subjects } from "./subjects.js";
import { monotonicMs } from "../runtime/monotonic-clock.js";

/** The first wait after "no responders", doubled on each further one up to ABSENT_MAX_MS. */
const ABSENT_FIRST_MS = 20;
const ABSENT_MAX_MS = 250;
/**
 * How long a re-sent call waits for ACCEPTED before it is sent again, doubled up to ACK_MAX_MS.
 * Short, so a call survives many unlucky picks of a dead subscription; an instance that is slow
 * to say ACCEPTED (busy in a long sync method) drops the extra copies by their id.
 */
const ACK_FIRST_MS = 50;
const ACK_MAX_MS = 500;
/**
 * After an instance was lost, calls to its service ask for ACCEPTED this long: the broker may
 * route to the dead instance's subscription until it drops the connection (a cut-off link is
 * noticed after missed pings, minutes with the server's defaults), and such a copy is lost.
 */
const LOST_ACK_WINDOW_MS = 5 * 60_000;

/** One remote call waiting for its answer. */
class PendingCall {
  /** Bumped on every re-send; part of the reply subject, so a stale "no responders" is told apart. */
  attempt = 0;
  /** Sent with `ack` and not yet ACCEPTED. */
  unconfirmed = false;
  /** The last send found no instance, so a time-out means the service is absent. */
  absent = false;
  absentMs = ABSENT_FIRST_MS;
  ackMs = ACK_FIRST_MS;
  timer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;

  constructor(
    readonly key: string,
    readonly service: string,
    readonly method: string,
    readonly args: unknown[],
    readonly timeoutMs: number,
    /** monotonicMs() when the call's time limit ends. */
    readonly deadline: number,
  ) {}
}

/**
 * Reaches services of a distributed job: the ones in this process through the local transport
 * (sync fast path intact), the others by request/reply on subjects.service(job, name).
 * @remarks Replies come back on one wildcard inbox subscription per transport, matched to their
 * call by the last subject token: per call one encode, one publish, one timer, no subscription.
 * A call that finds no instance (its worker died, the service is being re-created) is sent
 * again with a short backoff until its deadline; instanceLost() re-sends the calls in flight.
 */
export class NatsServiceTransport implements ServiceTransport {
  readonly #remote: ReadonlySet<string>;
  readonly #pending = new Map<string, PendingCall>();
  /** Services whose instance was lost, and until when their calls ask for ACCEPTED. */
  readonly #lost = new Map<string, number>();
  readonly #inbox: string;
  readonly #subscription: Subscription;
  /** Where the driver's instanceLost() reaches the transports of the job's other processes. */
  readonly #lostSubject: string;
  readonly #lostSubscription: Subscription;
  readonly #status: QueuedIterator<Status>;
  /** Request subject per remote service, built once. */
  readonly #subjects = new Map<string, string>();
  #next = 0;
  #closed = false;

  constructor(
    private readonly nc: NatsConnection,
    jobId: string,
    private readonly local: LocalServiceTransport,
    /** Names of the services living in other processes. */
    remote: readonly string[],
  ) {
    this.#remote = new Set(remote);
    for (const service of remote) this.#subjects.set(service, subjects.service(jobId, service));
    this.#inbox = `${createInbox()}.`;
    this.#subscription = nc.subscribe(`${this.#inbox}*`, {
      callback: (error, msg) => {
        if (error === null) this.#onReply(msg);
      },
    });
    this.#lostSubject = subjects.serviceLost(jobId);
    this.#lostSubscription = nc.subscribe(this.#lostSubject, {
      callback: (error, msg) => {
        if (error !== null) return;
        try {
          const lost = msg.json<{ service: string; from: string }>();
          if (lost.from !== this.#inbox && this.#remote.has(lost.service)) this.#markLost(lost.service);
        } catch {
          // not a lost-instance notice: ignore
        }
      },
    });
    void nc.closed().then(() => this.#failAll("the cluster connection closed"));
    this.#status = nc.status() as QueuedIterator<Status>;
    void this.#resendOnReconnect(this.#status);
  }

  call(service: string, method: string, args: unknown[], options: CallOptions): unknown {
    if (this.#remote.has(service)) return this.#callRemote(service, method, args, options.timeoutMs);
    try {
      return this.local.call(service, method, args, options);
    } catch (error) {
      throw this.#widenNotFound(error, service);
    }
  }

  proxy(service: string, options: CallOptions): Record<string, unknown> {
    if (!this.#remote.has(service)) {
      try {
        return this.local.proxy(service, options);
      } catch (error) {
        throw this.#widenNotFound(error, service);
      }
    }
    // The methods of a remote service are not known here: every name is called by name.
    const timeoutMs = options.timeoutMs;
    return createProxyBase(service, (method, args) => this.#callRemote(service, method, args, timeoutMs));
  }

  services(): readonly string[] {
    return [...new Set([...this.local.services(), ...this.#remote])];
  }

  /**
   * The instance of `service` died (the driver saw its worker go): the calls in flight to it, here
   * and in the job's other processes (remote operators call services too), are sent again and
   * answered by the next instance within their deadlines. At-least-once: a call the dead instance
   * had already run runs again.
   */
  instanceLost(service: string): void {
    this.#markLost(service);
    try {
      this.nc.publish(this.#lostSubject, JSON.stringify({ service, from: this.#inbox }));
    } catch {
      // a closed connection: no call of this job is in flight anywhere that could be answered
    }
  }

  /** Fails the calls still waiting and stops listening for replies; the connection stays the caller's. */
  close(): void {
    if (this.#closed) return;
    this.#failAll("the service transport was closed");
    this.#closed = true;
    this.#status.stop();
    if (!this.nc.isClosed()) {
      this.#subscription.unsubscribe();
      this.#lostSubscription.unsubscribe();
    }
  }

  #markLost(service: string): void {
    this.#lost.set(service, monotonicMs() + LOST_ACK_WINDOW_MS);
    this.#resendPending(service);
  }

  // A call or its answer may have been lost while the broker was away (an answer sent before
  // this connection subscribed again is dropped): send the calls in flight again.
  async #resendOnReconnect(status: QueuedIterator<Status>): Promise<void> {
    for await (const event of status) if (event.type === "reconnect") this.#resendPending(undefined);
  }

  #resendPending(service: string | undefined): void {
    for (const call of this.#pending.values()) {
      if (service !== undefined && call.service !== service) continue;
      clearTimeout(call.retryTimer);
      call.retryTimer = undefined;
      call.absentMs = ABSENT_FIRST_MS;
      call.ackMs = ACK_FIRST_MS;
      this.#resend(call);
    }
  }

  #callRemote(service: string, method: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ServiceCallError(service, method, new Error("the service transport is closed")));
    const key = (this.#next++).toString(36);
    // A limit that is not a positive number means none, as for in-process calls.
    const limited = Number.isFinite(timeoutMs) && timeoutMs > 0;
    const call = new PendingCall(key, service, method, args, timeoutMs, limited ? monotonicMs() + timeoutMs : Infinity);
    const ack = this.#lost.size > 0 && this.#askAck(service);
    let payload: Uint8Array;
    try {
      payload = encode(ack ? { method, args, timeoutMs, ack: this.#inbox + key } : { method, args, timeoutMs });
    } catch (error) {
      return Promise.reject(new ServiceCallError(service, method, new Error(`the arguments cannot be sent over the cluster: ${messageOf(error)}`)));
    }
    const promise = new Promise<unknown>((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
    });
    this.#pending.set(key, call);
    if (limited) call.timer = setTimeout(this.#expire, timerMs(timeoutMs), call);
    this.#publish(call, payload, ack);
    return promise;
  }

  #askAck(service: string): boolean {
    const until = this.#lost.get(service);
    if (until === undefined) return false;
    if (monotonicMs() < until) return true;
    this.#lost.delete(service);
    return false;
  }

  /** Sends the call again (always asking for ACCEPTED), with what is left of its time limit. */
  #resend(call: PendingCall): void {
    call.attempt++;
    const left = Math.max(1, call.deadline - monotonicMs());
    let payload: Uint8Array;
    try {
      payload = encode({ method: call.method, args: call.args, timeoutMs: left, ack: this.#inbox + call.key });
    } catch (error) {
      // The caller changed the arguments since (they are not copied): no longer sendable.
      this.#finish(call);
      call.reject(new ServiceCallError(call.service, call.method, new Error(`the arguments cannot be sent over the cluster: ${messageOf(error)}`)));
      return;
    }
    this.#publish(call, payload, true);
  }

  #publish(call: PendingCall, payload: Uint8Array, ack: boolean): void {
    const reply = call.attempt === 0 ? this.#inbox + call.key : `${this.#inbox}${call.key}-${call.attempt}`;
    try {
      this.nc.publish(this.#subjects.get(call.service)!, payload, { reply });
    } catch (error) {
      this.#finish(call);
      call.reject(new ServiceCallError(call.service, call.method, new Error(`cannot send the call: ${messageOf(error)}`)));
      return;
    }
    if (!ack) return;
    call.unconfirmed = true;
    this.#retryIn(call, call.ackMs);
    call.ackMs = Math.min(ACK_MAX_MS, call.ackMs * 2);
  }

  #onReply(msg: Msg): void {
    const rest = msg.subject.slice(this.#inbox.length);
    const dash = rest.indexOf("-");
    const call = this.#pending.get(dash < 0 ? rest : rest.slice(0, dash));
    // Nobody waits for it any more: a reply after the time limit, or a second one after a re-send.
    if (call === undefined) return;
    if (msg.data.length === 0) {
      // A status message (the codec never encodes to nothing): 503 is the broker's "no responders".
      if (msg.headers?.code === 503 && (dash < 0 ? 0 : Number(rest.slice(dash + 1))) === call.attempt) this.#noResponders(call);
      return;
    }
    let reply: ServiceReply;
    try {
      reply = decode<ServiceReply>(msg.data);
    } catch (error) {
      this.#finish(call);
      call.reject(new ServiceCallError(call.service, call.method, new Error(`the reply cannot be read: ${messageOf(error)}`)));
      return;
    }
    if (reply.accepted === true) {
      // An instance has it (any send of it will do): wait for its answer, no more re-sends.
      if (call.unconfirmed) {
        call.unconfirmed = false;
        call.absent = false;
        clearTimeout(call.retryTimer);
        call.retryTimer = undefined;
      }
      return;
    }
    this.#finish(call);
    if (reply.error === undefined) call.resolve(reply.value);
    else call.reject(errorFromWire(reply.error, call.timeoutMs));
  }

  // No instance listens (its worker died, a new one is setting up): try again soon.
  #noResponders(call: PendingCall): void {
    call.absent = true;
    call.unconfirmed = false;
    clearTimeout(call.retryTimer);
    this.#retryIn(call, call.absentMs);
    call.absentMs = Math.min(ABSENT_MAX_MS, call.absentMs * 2);
  }

  #retryIn(call: PendingCall, ms: number): void {
    // Too close to the deadline for another try: the deadline timer ends the call.
    call.retryTimer = call.deadline - monotonicMs() > ms ? setTimeout(this.#retry, ms, call) : undefined;
  }

  // Timer callbacks shared by every call of this transport: the call travels as the timer's
  // argument, no closure per call.
  readonly #retry = (call: PendingCall): void => {
    call.retryTimer = undefined;
    if (this.#pending.get(call.key) !== call) return;
    // Not confirmed in time: maybe swallowed by a dead instance's subscription.
    if (call.unconfirmed) call.absent = true;
    this.#resend(call);
  };

  readonly #expire = (call: PendingCall): void => {
    if (this.#pending.get(call.key) !== call) return;
    this.#finish(call);
    call.reject(
      call.absent
        ? new ServiceCallError(call.service, call.method, new Error(`service '${call.service}' has no running instance (none answered within ${call.timeoutMs} ms)`))
        : new ServiceCallTimeoutError(call.service, call.method, call.timeoutMs),
    );
  };

  #finish(call: PendingCall): void {
    this.#pending.delete(call.key);
    clearTimeout(call.timer);
    clearTimeout(call.retryTimer);
  }

  #failAll(reason: string): void {
    for (const call of [...this.#pending.values()]) {
      this.#finish(call);
      call.reject(new ServiceCallError(call.service, call.method, new Error(reason)));
    }
  }

  // An unknown service: name every service the job has, not only the local ones.
  #widenNotFound(error: unknown, service: string): unknown {
    if (error instanceof ServiceNotFoundError && error.method === undefined && error.service === service) return new ServiceNotFoundError(service, undefined, this.services());
    return error;
  }
}
