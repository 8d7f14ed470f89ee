import type { NatsConnection, Status } from "@nats-io/nats-core";
import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm, KvWatchInclude, type KV, type KvEntry } from "@nats-io/kv";
import { messageOf } from "../api/errors.js";
import type { WorkerEntry } from "./protocol.js";
import { token, WORKERS_BUCKET } from "./subjects.js";
import { DEFAULT_BEAT_MS, DEFAULT_LEASE_MS } from "./worker-timing.js";

export { DEFAULT_BEAT_MS, DEFAULT_LEASE_MS } from "./worker-timing.js";

/**
 * The cluster's member list: each worker claims the key of its name in the WORKERS_BUCKET KV
 * bucket and rewrites its entry at every heartbeat. A worker that stops beating is dead once its
 * entry is older than its lease; the bucket's max age then removes the entry altogether.
 *
 * Ages are measured from the broker's timestamp of the last write, so the clocks of the machines
 * need to agree to well within a lease (NTP); a watch counts from when it received each beat.
 */

/** The bucket-wide max age of an entry: a dead worker's entry is gone after this (a few default leases). */
export const WORKER_ENTRY_MAX_AGE_MS = 30_000;

/** The registry bucket, created (history 1, max age WORKER_ENTRY_MAX_AGE_MS) when missing. */
export function openWorkersBucket(nc: NatsConnection, timeoutMs = 5000): Promise<KV> {
  return new Kvm(jetstream(nc, { timeout: timeoutMs })).create(WORKERS_BUCKET, { history: 1, ttl: WORKER_ENTRY_MAX_AGE_MS });
}

/** Refused registration: a live worker holds the name. */
export class WorkerNameTakenError extends Error {
  constructor(
    /** The entry of the worker that holds the name. */
    readonly holder: WorkerEntry,
    ageMs: number,
  ) {
    super(
      `a worker named '${holder.name}' is already in the cluster (host ${holder.hostname}, pid ${holder.pid}, last beat ${formatAge(ageMs)} ago): ` +
        `choose another --name, or stop that worker (if it is dead, its entry expires ${formatAge(Math.max(0, holder.leaseMs - ageMs))} from now)`,
    );
    this.name = "WorkerNameTakenError";
  }
}

/** What a worker registers with; `load` is asked at every beat. */
export interface RegistrationOptions {
  name: string;
  /** Differs on every start (a restarted worker is a new member). */
  id: string;
  slots: number;
  hostname: string;
  pid: number;
  version: string;
  /** Heartbeat interval (default DEFAULT_BEAT_MS). */
  beatMs?: number;
  /** Dead after this long without a beat (default DEFAULT_LEASE_MS). */
  leaseMs?: number;
  /** The entry's changing part: slots taken and jobs hosted now. */
  load?: () => { used: number; jobs: string[] };
  /** Called once when another worker took the name while this one was cut off; beats stop then. */
  onLost?: (error: WorkerNameTakenError) => void;
}

/** A worker's live membership: beats until `leave()`. */
export interface WorkerRegistration {
  /** The entry as last written. */
  readonly entry: WorkerEntry;
  /** Rewrites the entry now (after its load changed) instead of at the next beat. */
  refresh(): void;
  /** Stops beating and deletes the entry (unless another worker has taken the name meanwhile). */
  leave(): Promise<void>;
}

/**
 * Claims the worker's name in the registry (refused with WorkerNameTakenError while another live
 * worker holds it; a stale entry is taken over) and keeps the entry alive. Beats that fail (the
 * broker is away) are retried; once the broker is back the entry is written again, into a
 * recreated bucket if the broker lost its store.
 */
export async function registerWorker(nc: NatsConnection, options: RegistrationOptions): Promise<WorkerRegistration> {
  const registration = new Registration(nc, options);
  await registration.join();
  return registration;
}

/** A registry entry with how long ago it was written. */
export interface ListedWorker extends WorkerEntry {
  ageMs: number;
}

/** The live workers now (dead ones, whose last beat is older than their lease, left out), by name. */
export async function listWorkers(nc: NatsConnection, options: { timeoutMs?: number } = {}): Promise<ListedWorker[]> {
  const now = Date.now();
  const latest = await readAll(nc, options.timeoutMs ?? 5000);
  return [...latest.values()]
    .filter((entry): entry is KvEntry => entry.operation === "PUT")
    .map((entry) => ({ ...parseEntry(entry), ageMs: ageOf(entry, now) }))
    .filter(isLive)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A change of the live worker set, as a watch sees it. */
export type WorkerChange =
  | { type: "joined"; worker: ListedWorker }
  /** `left`: it deleted its entry; `silent`: its lease ran out without a beat. */
  | { type: "left"; reason: "left" | "silent"; worker: ListedWorker };

/** A running watch of the registry. */
export interface WorkerWatch {
  /** Resolves once the registry's current content was read. */
  readonly ready: Promise<void>;
  /** The live workers now, by name. */
  live(): ListedWorker[];
  /** Ends the watch. */
  stop(): void;
}

/**
 * Watches the registry for a driver: `live()` answers from memory, and `onChange` hears joins,
 * leaves and workers that went silent (checked every `checkMs`, default 250 ms). Survives broker
 * restarts (it watches again, from a fresh read).
 */
export function watchWorkers(nc: NatsConnection, options: { onChange?: (change: WorkerChange) => void; checkMs?: number } = {}): WorkerWatch {
  return new Watch(nc, options.onChange, options.checkMs ?? 250);
}

// --- internal ---

const CLAIM_ATTEMPTS = 3;

class Registration implements WorkerRegistration {
  readonly #nc: NatsConnection;
  readonly #options: RegistrationOptions;
  readonly #key: string;
  readonly #beatMs: number;
  readonly #leaseMs: number;
  #kv!: KV;
  #revision = 0;
  #entry!: WorkerEntry;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #again = false;
  #over = false;

  constructor(nc: NatsConnection, options: RegistrationOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#key = token(options.name);
    this.#beatMs = options.beatMs ?? DEFAULT_BEAT_MS;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(this.#beatMs > 0 && this.#leaseMs > this.#beatMs)) {
      throw new Error(`a worker's lease (${this.#leaseMs} ms) must be longer than its heartbeat interval (${this.#beatMs} ms)`);
    }
  }

  get entry(): WorkerEntry {
    return this.#entry;
  }

  async join(): Promise<void> {
    this.#kv = await openWorkersBucket(this.#nc, this.#timeoutMs());
    const entry = this.#build();
    this.#revision = await this.#claim(entry);
    this.#entry = entry;
    this.#schedule();
  }

  refresh(): void {
    if (this.#over) return;
    if (this.#beating) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#beat();
  }

  async leave(): Promise<void> {
    if (this.#over) return;
    this.#over = true;
    clearTimeout(this.#timer);
    await this.#beating;
    try {
      // Only our own entry: a worker that took the name over keeps it.
      await this.#kv.delete(this.#key, { previousSeq: this.#revision });
    } catch {
      // gone already, taken over, or the broker is away: the entry expires by itself
    }
  }

  #timeoutMs(): number {
    return Math.min(this.#leaseMs, 5000);
  }

  #schedule(): void {
    if (!this.#over) this.#timer = setTimeout(() => this.#beat(), this.#beatMs);
  }

  #beat(): void {
    this.#beating = this.#write().finally(() => {
      this.#beating = undefined;
      if (this.#again && !this.#over) {
        this.#again = false;
        this.#beat();
      } else {
        this.#schedule();
      }
    });
  }

  async #write(): Promise<void> {
    const entry = this.#build();
    try {
      this.#revision = await this.#kv.update(this.#key, JSON.stringify(entry), this.#revision);
      this.#entry = entry;
      return;
    } catch {
      // Someone else wrote the key, it expired, the bucket is gone, or the broker is away: look.
    }
    if (this.#over) return;
    try {
      this.#kv = await openWorkersBucket(this.#nc, this.#timeoutMs());
      this.#revision = await this.#claim(entry);
      this.#entry = entry;
    } catch (error) {
      if (error instanceof WorkerNameTakenError && !this.#over) {
        this.#over = true;
        this.#options.onLost?.(error);
      }
      // Otherwise the broker is still away: the next beat tries again.
    }
  }

  // Writes `entry` under the key unless another live worker holds it; answers the revision.
  async #claim(entry: WorkerEntry): Promise<number> {
    const data = JSON.stringify(entry);
    let lastError: unknown;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const current = await this.#kv.get(this.#key);
      try {
        if (!current || current.operation !== "PUT") return await this.#kv.create(this.#key, data);
        const holder = parseEntry(current);
        const ageMs = ageOf(current, Date.now());
        if (holder.id !== entry.id && isLive({ ...holder, ageMs })) throw new WorkerNameTakenError(holder, ageMs);
        return await this.#kv.update(this.#key, data, current.revision);
      } catch (error) {
        // Someone wrote the key between our read and our write: read again.
        if (!isWrongLastSequence(error)) throw error;
        lastError = error;
      }
    }
    throw new Error(`could not claim the worker name '${entry.name}': other workers are claiming it at the same time (${messageOf(lastError)})`);
  }

  #build(): WorkerEntry {
    const { name, id, slots, hostname, pid, version } = this.#options;
    const load = this.#options.load?.() ?? { used: 0, jobs: [] };
    const startedAt = this.#entry?.startedAt ?? new Date().toISOString();
    return { name, id, slots, used: load.used, hostname, pid, startedAt, beatAt: Date.now(), beatMs: this.#beatMs, leaseMs: this.#leaseMs, jobs: load.jobs, version };
  }
}

interface Known {
  revision: number;
  entry: WorkerEntry | undefined;
  /** Local time it was written, as best known. */
  seenAt: number;
}

class Watch implements WorkerWatch {
  readonly ready: Promise<void>;
  readonly #nc: NatsConnection;
  readonly #onChange: ((change: WorkerChange) => void) | undefined;
  readonly #known = new Map<string, Known>();
  // What onChange was last told is live, by worker id.
  readonly #reported = new Map<string, ListedWorker>();
  readonly #timer: NodeJS.Timeout;
  #stopped = false;
  #iterator: { stop(): void } | undefined;
  #statuses: (AsyncIterable<Status> & { stop?(): void }) | undefined;

  constructor(nc: NatsConnection, onChange: ((change: WorkerChange) => void) | undefined, checkMs: number) {
    this.#nc = nc;
    this.#onChange = onChange;
    this.#timer = setInterval(() => this.#sync(), checkMs);
    this.#timer.unref();
    let resolveReady!: () => void;
    this.ready = new Promise((resolve) => (resolveReady = resolve));
    void this.#run(resolveReady);
    void this.#rewatchOnReconnect();
  }

  live(): ListedWorker[] {
    const now = Date.now();
    const live: ListedWorker[] = [];
    for (const known of this.#known.values()) {
      if (!known.entry) continue;
      const worker = { ...known.entry, ageMs: Math.max(0, now - known.seenAt) };
      if (isLive(worker)) live.push(worker);
    }
    return live.sort((a, b) => a.name.localeCompare(b.name));
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#iterator?.stop();
    this.#statuses?.stop?.();
  }

  // A watch does not outlive a broker that restarted (perhaps without its store): watch anew.
  async #rewatchOnReconnect(): Promise<void> {
    this.#statuses = this.#nc.status() as AsyncIterable<Status> & { stop?(): void };
    for await (const status of this.#statuses) {
      if (this.#stopped) break;
      if (status.type === "reconnect") this.#iterator?.stop();
    }
  }

  async #run(resolveReady: () => void): Promise<void> {
    while (!this.#stopped) {
      try {
        const kv = await openWorkersBucket(this.#nc);
        // Watch first, then read what is there: nothing written in between is missed, and the
        // revisions tell which of the two is newer.
        const updates = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
        this.#iterator = updates;
        if (this.#stopped) break;
        const now = Date.now();
        for (const entry of (await readAll(this.#nc, 5000)).values()) this.#apply(entry, now - ageOf(entry, now));
        this.#sync();
        resolveReady();
        for await (const entry of updates) this.#apply(entry, Date.now());
      } catch {
        // The broker is away or lost its store: read and watch again shortly.
      }
      if (!this.#stopped) await new Promise((resolve) => setTimeout(resolve, 250).unref());
    }
    resolveReady();
  }

  #apply(entry: KvEntry, seenAt: number): void {
    const known = this.#known.get(entry.key);
    if (known && known.revision >= entry.revision) return;
    let parsed: WorkerEntry | undefined;
    if (entry.operation === "PUT") {
      try {
        parsed = parseEntry(entry);
      } catch {
        return; // not a worker's entry: ignore
      }
    }
    this.#known.set(entry.key, { revision: entry.revision, entry: parsed, seenAt });
    this.#sync();
  }

  // Tells onChange how the live set differs from what it was last told.
  #sync(): void {
    if (!this.#onChange) return;
    const live = new Map(this.live().map((worker) => [worker.id, worker]));
    for (const [id, worker] of this.#reported) {
      if (live.has(id)) continue;
      this.#reported.delete(id);
      const current = [...this.#known.values()].find((known) => known.entry?.id === id);
      this.#onChange({ type: "left", reason: current ? "silent" : "left", worker });
    }
    for (const [id, worker] of live) {
      if (this.#reported.has(id)) continue;
      this.#reported.set(id, worker);
      this.#onChange({ type: "joined", worker });
    }
  }
}

// The newest entry (or delete marker) of every key in the bucket; empty when there is no bucket.
// Plain requests (the stream's subject list, then each key's last message) rather than a consumer:
// a consumer over a bucket rewritten every second can take an idle heartbeat (5 s) to end.
async function readAll(nc: NatsConnection, timeoutMs: number): Promise<Map<string, KvEntry>> {
  const latest = new Map<string, KvEntry>();
  const prefix = `$KV.${WORKERS_BUCKET}.`;
  try {
    const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    const info = await jsm.streams.info(`KV_${WORKERS_BUCKET}`, { subjects_filter: `${prefix}>` });
    const kv = await new Kvm(jetstream(nc, { timeout: timeoutMs })).open(WORKERS_BUCKET);
    const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
    const entries = await Promise.all(keys.map((key) => kv.get(key)));
    for (const entry of entries) if (entry) latest.set(entry.key, entry);
  } catch (error) {
    if (isStreamNotFound(error)) return latest; // no worker ever joined
    throw error;
  }
  return latest;
}

function parseEntry(entry: KvEntry): WorkerEntry {
  return entry.json<WorkerEntry>();
}

function ageOf(entry: KvEntry, now: number): number {
  return Math.max(0, now - entry.created.getTime());
}

function isLive(worker: ListedWorker): boolean {
  return worker.ageMs <= worker.leaseMs;
}

function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function isStreamNotFound(error: unknown): boolean {
  return (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) || /stream not found/i.test(messageOf(error));
}

// "0.4s", "12s", "3m05s": a short human age.
function formatAge(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}
