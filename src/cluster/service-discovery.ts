/**
 * The NATS micro protocol's discovery answers ($SRV.PING, $SRV.INFO, $SRV.STATS), written here
 * directly: the @nats-io/services package exists only as a prerelease whose types clash with
 * nats.js 3.4, and the three JSON shapes are all a tool like `nats micro ls` needs.
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";

/** Who a discoverable service is. */
export interface DiscoveryIdentity {
  /** The micro service name: [A-Za-z0-9_-]+ (many instances may share it). */
  name: string;
  /** Unique per instance. */
  id: string;
  version: string;
  description: string;
  metadata: Record<string, string>;
  /** The one endpoint: its name, subject and queue group. */
  endpoint: { name: string; subject: string; queue_group: string };
}

/** Request counters of the endpoint, as STATS reports them. */
export interface DiscoveryStats {
  requests: number;
  errors: number;
  lastError: string;
  /** Total handling time in nanoseconds. */
  processingNs: number;
  started: string;
}

const VERBS = ["PING", "INFO", "STATS"] as const;

/**
 * Answers the discovery subjects for one service instance (each verb bare, `.<name>` and
 * `.<name>.<id>`); returns the subscriptions, to unsubscribe at stop.
 */
export function serveDiscovery(nc: NatsConnection, identity: DiscoveryIdentity, stats: () => DiscoveryStats): Subscription[] {
  const subscriptions: Subscription[] = [];
  for (const verb of VERBS) {
    const answer = (error: Error | null, msg: Msg) => {
      if (error) return;
      try {
        msg.respond(JSON.stringify(discoveryAnswer(verb, identity, stats())));
      } catch {
        // The connection is closing: nobody is left to read the answer.
      }
    };
    for (const subject of [`$SRV.${verb}`, `$SRV.${verb}.${identity.name}`, `$SRV.${verb}.${identity.name}.${identity.id}`]) {
      subscriptions.push(nc.subscribe(subject, { callback: answer }));
    }
  }
  return subscriptions;
}

/** The JSON answer to one discovery verb. */
export function discoveryAnswer(verb: (typeof VERBS)[number], identity: DiscoveryIdentity, stats: DiscoveryStats): Record<string, unknown> {
  const base = { name: identity.name, id: identity.id, version: identity.version, metadata: identity.metadata };
  if (verb === "PING") return { type: "io.nats.micro.v1.ping_response", ...base };
  if (verb === "INFO") {
    return { type: "io.nats.micro.v1.info_response", ...base, description: identity.description, endpoints: [{ ...identity.endpoint, metadata: null }] };
  }
  return {
    type: "io.nats.micro.v1.stats_response",
    ...base,
    started: stats.started,
    endpoints: [
      {
        ...identity.endpoint,
        num_requests: stats.requests,
        num_errors: stats.errors,
        last_error: stats.lastError,
        processing_time: stats.processingNs,
        average_processing_time: stats.requests > 0 ? Math.round(stats.processingNs / stats.requests) : 0,
      },
    ],
  };
}
