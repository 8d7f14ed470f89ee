import { resolve } from "node:path";
import { messageOf } from "../api/errors.js";
import { withFields } from "../api/log-fields.js";
import type { Logger } from "../api/types.js";
import type { ClusterAddress } from "../cluster/connect.js";
import type { ClusterInfo } from "./server-info.js";

export type { ClusterInfo, ClusterWorkerInfo } from "./server-info.js";

/** The JobManager's hold on its cluster: one connection and a watch of the worker registry. */
export interface ClusterLink {
  /** What `/api/info` shows of it now. */
  info(): ClusterInfo;
  /** The variables every job process gets, so that its remote parts go to this cluster. */
  readonly jobEnv: Readonly<Record<string, string>>;
  /** Ends the watch and the connection. */
  close(): Promise<void>;
}

/** The job-process variables a cluster owns: a job's own `env` may not set them. */
export const CLUSTER_ENV_NAMES = ["SAGE_CLUSTER", "SAGE_CLUSTER_CREDS"] as const;

/** The JobManager cannot start: its cluster cannot be reached, or refuses it. */
export class ClusterUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ClusterUnavailableError";
  }
}

/** How long the start waits for the first read of the worker registry. */
const WATCH_READY_MS = 5000;

/**
 * Connects to the cluster (rejecting with a ClusterUnavailableError that says what is wrong: nothing
 * listens, credentials refused, no JetStream) and watches its workers, logging joins and departures.
 */
export async function openClusterLink(address: ClusterAddress, logger: Logger): Promise<ClusterLink> {
  // Loaded only for a JobManager with a cluster: the cluster code brings NATS with it.
  const [{ connectCluster, redactUrl }, { watchWorkers }] = await Promise.all([import("../cluster/connect.js"), import("../cluster/worker-registry.js")]);
  // Job processes need not run where the server was started from.
  const creds = address.creds === undefined ? undefined : resolve(address.creds);
  let nc: Awaited<ReturnType<typeof connectCluster>>;
  try {
    nc = await connectCluster({ url: address.url, ...(creds && { creds }) }, { name: "sage-jobmanager" });
  } catch (error) {
    throw new ClusterUnavailableError(`the JobManager's cluster is not usable: ${messageOf(error)}`, { cause: error });
  }
  const shown = redactUrl(address.url);
  let connected = true;
  const statuses = nc.status();
  void (async () => {
    for await (const status of statuses) {
      if (status.type === "disconnect") {
        connected = false;
        logger.warn("lost the connection to the cluster at %s: reconnecting", shown);
      } else if (status.type === "reconnect") {
        connected = true;
        logger.info("reconnected to the cluster at %s", shown);
      }
    }
  })().catch(() => undefined);
  const watch = watchWorkers(nc, {
    onChange: (change) => {
      const w = change.worker;
      const log = withFields(logger, { worker: w.name });
      if (change.type === "joined") log.info("cluster worker %s joined (host %s, %d slots)", w.name, w.hostname, w.slots);
      else log.warn("cluster worker %s %s", w.name, change.reason === "left" ? "left" : "went silent (its lease ran out)");
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const readyInTime = await Promise.race([watch.ready.then(() => true), new Promise<boolean>((done) => (timer = setTimeout(() => done(false), WATCH_READY_MS)))]);
  clearTimeout(timer);
  if (!readyInTime) logger.warn("the cluster's worker registry did not answer within %d ms: workers are listed once it does", WATCH_READY_MS);
  logger.info("cluster %s: %d worker(s)", shown, watch.live().length);
  let closing: Promise<void> | undefined;
  return {
    jobEnv: { SAGE_CLUSTER: address.url, ...(creds && { SAGE_CLUSTER_CREDS: creds }) },
    info: () => ({
      url: shown,
      connected,
      workers: watch.live().map((w) => ({ name: w.name, host: w.hostname, slots: w.slots, used: w.used, jobs: [...w.jobs], lastBeatMs: w.ageMs })),
    }),
    close: () =>
      (closing ??= (async () => {
        watch.stop();
        await nc.close().catch(() => undefined);
      })()),
  };
}
