import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "dashboard/src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // vitest's default (one worker fewer than the cores) runs one file at a time on a 2-core
    // machine: 13.5 min for the suite. Two files at once keep it under 10 min there; the tests
    // use free ports and their own processes, so files do not share anything.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
