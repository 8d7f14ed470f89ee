import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The JobManager's dashboard: built into the package's dist/dashboard, which the server serves. */
export default defineConfig({
  root: here("."),
  base: "/",
  plugins: [preact()],
  publicDir: here("public"),
  build: {
    outDir: here("../dist/dashboard"),
    emptyOutDir: true,
    // The polyfill would be one more script; every browser the dashboard targets has modulepreload.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2048,
    // Plugin timing advice depends on the machine's load, not on this build: it is noise in CI.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
