import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runNode as run } from "../support/cluster.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));

// The built package as a user's project holds it, under a path with a space and a non-ASCII
// letter (ESM frames are percent-encoded file URLs), run by plain node: no source maps, so the
// frames point into SAGE's bundled files.
describe("local mode - a failure's frames from the built package, without source maps", () => {
  let project: string;

  beforeAll(() => {
    project = join(mkdtempSync(join(tmpdir(), "sage-frames-")), "my app é");
    const sage = join(project, "node_modules", "sage");
    mkdirSync(sage, { recursive: true });
    cpSync(join(repo, "package.json"), join(sage, "package.json"));
    cpSync(join(repo, "dist"), join(sage, "dist"), { recursive: true, filter: (source) => !source.includes(`${join(repo, "dist", "dashboard")}`) });
    symlinkSync(join(repo, "node_modules"), join(sage, "node_modules"));
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-app", type: "module" }));
  });

  afterAll(() => {
    if (project) rmSync(join(project, ".."), { recursive: true, force: true });
  });

  it.each([
    ["a map that throws", `env.fromBatch([1]).map(function userMap() { throw new Error("boom"); }, { name: "Breaks" }).sink(() => {});`],
    ["a print whose record throws when shown", `env.fromBatch([{ [Symbol.for("nodejs.util.inspect.custom")]() { throw new Error("bad inspect"); } }]).print("x");`],
  ])("%s: the user's frame is shown, SAGE's are counted", async (_, pipeline) => {
    writeFileSync(
      join(project, "fail.mjs"),
      `import { LocalEnvironment } from "sage";\nconst env = new LocalEnvironment("frames", { logLevel: "error" });\n${pipeline}\ntry { await env.submit({ autostop: true }); } catch (error) { console.log(error.stack); }\n`,
    );
    const { code, stdout, stderr } = await run([join(project, "fail.mjs")]);
    expect(code, stderr).toBe(0);
    const frames = stdout.split("\n").filter((line) => /^\s+(at |\.\.\. )/.test(line));
    expect(frames[0], stdout).toMatch(/^\s+at .*fail\.mjs:3:\d+\)?$/);
    expect(frames.at(-1), stdout).toMatch(/^\s+\.\.\. \(\d+ framework frames? hidden; SAGE_STACK=full shows them\)$/);
    expect(frames.filter((line) => line.includes("node_modules/sage")), stdout).toEqual([]);
  });

  it("the stack of a malformed pipeline names SAGE's classes as the sources do", async () => {
    writeFileSync(
      join(project, "malformed.mjs"),
      `import { LocalEnvironment } from "sage";\nconst env = new LocalEnvironment("frames");\nconst a = env.fromBatch([1]);\ntry { a.map(123); } catch (error) { console.log(error.stack); }\ntry { a.connect(env.fromBatch([2])).map(123); } catch (error) { console.log(error.stack); }\n`,
    );
    const { code, stdout, stderr } = await run([join(project, "malformed.mjs")]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/\n\s+at DataStream\.map \(/);
    expect(stdout).toMatch(/\n\s+at ConnectedStreams\.map \(/);
    expect(stdout).not.toMatch(/\b_[A-Z]\w*\./);
  });
});
