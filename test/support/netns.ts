/**
 * A second "machine" for the tests: a network namespace of the test's own, joined to this one by
 * a veth pair on a private /30, so a process started inside reaches this side only over a real
 * interface (and loses it when the link is cut). Needs root and iproute2's `ip`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { processAlive } from "./nats.js";

/** A network namespace with a veth link to this one. */
export interface NetworkNamespace {
  readonly name: string;
  /** This side's end of the link and its address. */
  readonly hostLink: string;
  readonly hostAddress: string;
  /** The namespace's end of the link and its address. */
  readonly namespaceLink: string;
  readonly namespaceAddress: string;
  /** Put before a command to run it inside the namespace (`ip netns exec` keeps the pid). */
  readonly exec: readonly string[];
  /** Pids of the processes inside the namespace now. */
  pids(): number[];
  /** Cuts the link on the namespace's side, as a pulled cable on the other machine would. */
  cut(): void;
  /** Kills what is left inside, deletes the namespace (and so the veth pair) and checks both are gone. */
  remove(): Promise<void>;
}

/** Why namespaces cannot be made here (not Linux, not root, no `ip`, no netns or veth), or undefined when they can. */
export function namespacesUnavailable(): string | undefined {
  if (process.platform !== "linux") return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "network namespaces need root (run the tests as root)";
  const version = spawnSync("ip", ["-V"], { encoding: "utf8" });
  if (version.error) return `no 'ip' command (install iproute2): ${version.error.message}`;
  // The real thing, briefly: a namespace and a veth pair moved into it.
  const probe = `sage-probe-${randomBytes(3).toString("hex")}`;
  const link = `sgp${randomBytes(3).toString("hex")}`;
  const steps = [
    ["netns", "add", probe],
    ["link", "add", link, "type", "veth", "peer", "name", `${link}n`],
    ["link", "set", `${link}n`, "netns", probe],
  ];
  try {
    for (const step of steps) {
      const run = spawnSync("ip", step, { encoding: "utf8" });
      if (run.status !== 0) return `'ip ${step.join(" ")}' failed: ${(run.stderr || run.error?.message || "").trim()}`;
    }
    return undefined;
  } finally {
    spawnSync("ip", ["link", "del", link]);
    spawnSync("ip", ["netns", "del", probe]);
  }
}

/** Creates a namespace and its link, on a /30 that no address or route of this side overlaps. */
export function createNamespace(): NetworkNamespace {
  const tag = randomBytes(3).toString("hex");
  const name = `sage-2h-${process.pid}-${tag}`;
  const hostLink = `sgh${tag}`;
  const namespaceLink = `sgn${tag}`;
  const subnet = freeSubnet();
  const hostAddress = ipString(subnet + 1);
  const namespaceAddress = ipString(subnet + 2);
  try {
    ip("netns", "add", name);
    ip("link", "add", hostLink, "type", "veth", "peer", "name", namespaceLink);
    ip("link", "set", namespaceLink, "netns", name);
    ip("addr", "add", `${hostAddress}/30`, "dev", hostLink);
    ip("link", "set", hostLink, "up");
    ip("-n", name, "addr", "add", `${namespaceAddress}/30`, "dev", namespaceLink);
    ip("-n", name, "link", "set", namespaceLink, "up");
    ip("-n", name, "link", "set", "lo", "up");
  } catch (error) {
    spawnSync("ip", ["link", "del", hostLink]);
    spawnSync("ip", ["netns", "del", name]);
    throw error;
  }
  const pids = () =>
    spawnSync("ip", ["netns", "pids", name], { encoding: "utf8" })
      .stdout.split("\n")
      .filter((line) => line.trim() !== "")
      .map(Number);
  return {
    name,
    hostLink,
    hostAddress,
    namespaceLink,
    namespaceAddress,
    exec: ["ip", "netns", "exec", name],
    pids,
    cut: () => ip("-n", name, "link", "set", namespaceLink, "down"),
    async remove() {
      const left = pids();
      for (const pid of left) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
      }
      const deadline = Date.now() + 5000;
      while (left.some(processAlive) && Date.now() < deadline) await sleep(20);
      // A socket closed while its link was down keeps retrying its FIN for minutes, and keeps the
      // namespace (with its end of the veth) alive meanwhile: destroy such sockets, drop the pair.
      spawnSync("ip", ["netns", "exec", name, "ss", "-K", "-a"], { stdio: "ignore" });
      spawnSync("ip", ["link", "del", hostLink], { stdio: "ignore" });
      spawnSync("ip", ["netns", "del", name]);
      while (linkExists(hostLink) && Date.now() < deadline) await sleep(20);
      const problems = [
        ...(left.some(processAlive) ? [`processes ${left.filter(processAlive).join(", ")} are still running inside`] : []),
        ...(namespaceExists(name) ? [`namespace ${name} still exists`] : []),
        ...(linkExists(hostLink) ? [`link ${hostLink} still exists`] : []),
      ];
      if (problems.length > 0) throw new Error(`removing the test's network namespace: ${problems.join("; ")}`);
    },
  };
}

/** Whether the namespace `name` exists. */
export function namespaceExists(name: string): boolean {
  return spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout.split("\n").some((line) => line.split(" ")[0] === name);
}

/** Whether this side has a link named `name`. */
export function linkExists(name: string): boolean {
  return spawnSync("ip", ["link", "show", name], { stdio: "ignore" }).status === 0;
}

// --- internal ---

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

// A random /30 in 10.64.0.0-10.254.255.255 that overlaps no address or route of this side.
function freeSubnet(): number {
  const taken = [...addressRanges(), ...routeRanges()];
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = ((10 << 24) | ((64 + Math.floor(Math.random() * 191)) << 16) | (Math.floor(Math.random() * 256) << 8) | (Math.floor(Math.random() * 64) << 2)) >>> 0;
    if (!taken.some(([start, end]) => base <= end && base + 3 >= start)) return base;
  }
  throw new Error("no free private /30 found for the test's link");
}

type Range = [start: number, end: number];

function addressRanges(): Range[] {
  const links = JSON.parse(execFileSync("ip", ["-j", "-4", "addr"], { encoding: "utf8" })) as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
  return links.flatMap((link) => (link.addr_info ?? []).map((a) => range(a.local, a.prefixlen)));
}

function routeRanges(): Range[] {
  const routes = JSON.parse(execFileSync("ip", ["-j", "-4", "route", "show", "table", "all"], { encoding: "utf8" })) as Array<{ dst: string }>;
  return routes
    .filter((r) => r.dst !== "default" && /^\d+\.\d+\.\d+\.\d+/.test(r.dst))
    .map((r) => {
      const [address, bits] = r.dst.split("/");
      return range(address!, bits === undefined ? 32 : Number(bits));
    });
}

function range(address: string, prefixlen: number): Range {
  const mask = prefixlen === 0 ? 0 : (~0 << (32 - prefixlen)) >>> 0;
  const start = (ipNumber(address) & mask) >>> 0;
  return [start, (start | (~mask >>> 0)) >>> 0];
}

function ipNumber(address: string): number {
  return address.split(".").reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

function ipString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}
