import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cacheKey, memoryCache, sqliteCache } from "./response-cache.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("response cache", () => {
  it("keys a request by its content, whatever the order of its fields", () => {
    const a = cacheKey({ model: "m", messages: [{ role: "user", content: "x" }], temperature: 0 });
    expect(cacheKey({ temperature: 0, messages: [{ content: "x", role: "user" }], model: "m" })).toBe(a);
    expect(cacheKey({ model: "m", messages: [{ role: "user", content: "x" }], temperature: 0, seed: undefined })).toBe(a);
    expect(cacheKey({ model: "m2", messages: [{ role: "user", content: "x" }], temperature: 0 })).not.toBe(a);
    expect(cacheKey({ model: "m", messages: [{ role: "user", content: "y" }], temperature: 0 })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it("in memory, hands out copies: a caller changing an answer does not change the cached one", () => {
    const cache = memoryCache();
    const value = { text: "a", usage: { promptTokens: 1, completionTokens: 2 } };
    cache.set("k", value);
    value.text = "changed";
    const first = cache.get("k") as typeof value;
    first.usage.promptTokens = 99;
    expect(cache.get("k")).toEqual({ text: "a", usage: { promptTokens: 1, completionTokens: 2 } });
    expect(cache.size).toBe(1);
  });

  it("in SQLite, keeps entries across instances (a restart) and creates its folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sage-cache-"));
    dirs.push(dir);
    const path = join(dir, "a", "b", "cache.sqlite");
    const first = await sqliteCache(path);
    first.set("k1", { text: "one" });
    first.set("k2", [[0.5, 1]]);
    first.set("k1", { text: "one, replaced" });
    first.close();
    const second = await sqliteCache(path);
    expect(second.get("k1")).toEqual({ text: "one, replaced" });
    expect(second.get("k2")).toEqual([[0.5, 1]]);
    expect(second.get("missing")).toBeUndefined();
    expect(second.size).toBe(2);
    second.close();
  });

  it("names a file that is not a SQLite database and says to delete it; works again once it is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sage-cache-"));
    dirs.push(dir);
    const path = join(dir, "damaged.sqlite");
    writeFileSync(path, "this is not a database ".repeat(200));
    const error = (await sqliteCache(path).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe(`the response cache '${path}' cannot be opened (file is not a database): it is not a readable SQLite database (damaged, or another kind of file): delete it (the cache is rebuilt from new answers) or name another file`);
    expect((error.cause as { code?: string }).code).toBe("SQLITE_NOTADB");
    rmSync(path);
    const cache = await sqliteCache(path);
    cache.set("k", 1);
    expect(cache.get("k")).toBe(1);
    cache.close();
  });

  it("names a path it cannot open at all (a folder)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sage-cache-"));
    dirs.push(dir);
    const path = join(dir, "a-folder");
    mkdirSync(path);
    await expect(sqliteCache(path)).rejects.toThrow(`the response cache '${path}' cannot be opened (`);
  });
});
