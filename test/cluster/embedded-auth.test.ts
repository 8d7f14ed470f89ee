/**
 * The embedded local cluster's broker takes only clients with its random token: another local
 * user cannot connect to it (and run code on its workers). The token shows in no process listing.
 */
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { startEmbeddedCluster } from "../../src/cluster/embedded-cluster.js";
import { listWorkers } from "../../src/cluster/worker-registry.js";
import { isAlive, waitUntil } from "./worker-child.js";

/** Pids and command lines of this process's children. */
function children(): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== process.pid) continue;
      found.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ") });
    } catch {
      // gone
    }
  }
  return found;
}

describe("embedded local cluster - access", () => {
  it("refuses a client without the broker's token; the token is on no command line", async () => {
    const cluster = await startEmbeddedCluster({ workers: 1, leaseMs: 1500 });
    let started: number[] = [];
    try {
      const { username: token, port } = new URL(cluster.url);
      expect(token).toMatch(/^[0-9a-f]{48}$/);
      await expect(connect({ servers: `nats://127.0.0.1:${port}`, name: "intruder", timeout: 3000, reconnect: false })).rejects.toThrow(/authorization/i);
      await expect(connect({ servers: `nats://127.0.0.1:${port}`, token: "guess", name: "intruder", timeout: 3000, reconnect: false })).rejects.toThrow(/authorization/i);
      // Its own connection (the driver's) and its worker's got in.
      expect((await listWorkers(cluster.nc)).map((w) => w.name)).toEqual(["local-1"]);
      const listed = children();
      started = listed.map((c) => c.pid);
      expect(listed.some((c) => c.cmdline.includes("nats-server"))).toBe(true);
      expect(listed.some((c) => c.cmdline.includes("worker start"))).toBe(true);
      expect(listed.filter((c) => c.cmdline.includes(token))).toEqual([]);
    } finally {
      await cluster.stop();
    }
    await waitUntil(() => started.every((pid) => !isAlive(pid)), 5000);
  });
});
