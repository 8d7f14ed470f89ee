#!/usr/bin/env node
// The `sage` command; the implementation is compiled to dist/ by `npm run build` (run on install).
import { runMain } from "../dist/cli/main.js";

await runMain();
