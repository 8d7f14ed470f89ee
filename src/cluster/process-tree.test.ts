import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isAlive } from "./process-alive.js";
import { killDescendants } from "./process-tree.js";

// A process that starts two children, one of them detached with an environment of its own (so
// neither its group, nor its session, nor a marker would find it), and prints their pids.
const LEADER = `
const { spawn } = require("node:child_process");
const keep = ["-e", "setInterval(() => {}, 1000)"];
const a = spawn(process.execPath, keep, { stdio: "ignore" });
const b = spawn(process.execPath, keep, { stdio: "ignore", detached: true, env: {} });
process.stdout.write(JSON.stringify([a.pid, b.pid]) + "\\n");
setInterval(() => {}, 1000);`;

async function waitGone(pids: number[], ms = 3000): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return pids.filter(isAlive);
}

describe("killDescendants", () => {
  it("kills the children of a live process by parent links, a detached one with a replaced environment too, and leaves the process", async () => {
    const leader = spawn(process.execPath, ["-e", LEADER], { stdio: ["ignore", "pipe", "ignore"] });
    const children = await new Promise<number[]>((resolve) => leader.stdout.once("data", (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as number[])));
    try {
      expect(children.every(isAlive)).toBe(true);
      expect(killDescendants(leader.pid!)).toBe(2);
      expect(await waitGone(children)).toEqual([]);
      expect(isAlive(leader.pid!)).toBe(true);
    } finally {
      leader.kill("SIGKILL");
      for (const pid of children) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  });
});
