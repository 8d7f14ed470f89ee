import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const reaper = fileURLToPath(new URL("./reaper.ts", import.meta.url));

// A parent that starts a long sleep, in a group of its own as SAGE starts a broker, and has it reaped with `dir`.
const PARENT = `
import { spawn } from "node:child_process";
const { reapWithThisProcess } = await import(${JSON.stringify(reaper)});
const child = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
reapWithThisProcess([child.pid], [process.argv[1]]);
console.log(child.pid);
setInterval(() => {}, 1000);
`;

// Gone: no such process, or a zombie nobody reaps (here init may not).
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

async function startParent(): Promise<{ parent: number; child: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "sage-reaper-test-"));
  const parent = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", PARENT, dir], { stdio: ["ignore", "pipe", "inherit"] });
  const child = await new Promise<number>((resolve) => parent.stdout.once("data", (chunk: Buffer) => resolve(Number(String(chunk).trim()))));
  // The watcher needs a moment to start before its parent may die.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { parent: parent.pid!, child, dir };
}

describe("reapWithThisProcess", () => {
  it("ends the processes of a parent killed with SIGKILL, then removes their directories", async () => {
    const { parent, child, dir } = await startParent();
    process.kill(parent, "SIGKILL");
    expect(await until(() => gone(child), 5000)).toBe(true);
    expect(await until(() => !existsSync(dir), 3000)).toBe(true);
  });

  // Processes that died with their parent (a group kill) left their directories where init reaps orphans at
  // once; where it does not (this container), the zombies they leave hid it.
  it("removes the directories of processes that died together with their parent", async () => {
    const { parent, child, dir } = await startParent();
    process.kill(parent, "SIGKILL");
    process.kill(child, "SIGKILL");
    expect(await until(() => gone(child), 2000)).toBe(true);
    expect(await until(() => !existsSync(dir), 3000)).toBe(true);
  });
});
