import { createHash } from "node:crypto";
import type { NatsConnection } from "@nats-io/nats-core";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { BUNDLES_BUCKET } from "./subjects.js";

// A week: a job host fetches its bundle when it starts, and a re-placement may start one late.
const BUNDLE_TTL_NS = 7 * 24 * 3600 * 1e9;

async function bundles(nc: NatsConnection): Promise<ObjectStore> {
  return new Objm(nc).create(BUNDLES_BUCKET, { ttl: BUNDLE_TTL_NS, description: "SAGE job bundles by content hash" });
}

/** Stores a job's bundled code in the cluster (once per content) and returns its hash. */
export async function publishBundle(nc: NatsConnection, code: string): Promise<string> {
  const bytes = Buffer.from(code, "utf8");
  const hash = createHash("sha256").update(bytes).digest("hex");
  const store = await bundles(nc);
  if ((await store.info(hash)) === null) await store.putBlob({ name: hash }, bytes);
  return hash;
}

/** Fetches a bundle by hash and checks its content against the hash. */
export async function fetchBundle(nc: NatsConnection, hash: string): Promise<string> {
  const bytes = await (await bundles(nc)).getBlob(hash);
  if (bytes === null) throw new Error(`the job's bundle ${hash.slice(0, 12)} is not in the cluster's bundle store`);
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== hash) throw new Error(`the job's bundle ${hash.slice(0, 12)} arrived damaged (its hash is ${actual.slice(0, 12)})`);
  return Buffer.from(bytes).toString("utf8");
}
