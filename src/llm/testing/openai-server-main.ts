/**
 * Runs the OpenAI-protocol test server as a process: prints `OPENAI_BASE_URL=<url>` on its first
 * line of output and serves until SIGINT or SIGTERM.
 * Usage: `node dist/llm/testing/openai-server-main.js [--port N] [--host H] [--latency-ms N] [--chunk-delay-ms N] [--api-key K]`
 * @module
 */
import { parseArgs } from "node:util";
import { startOpenAIServer } from "./openai-server.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    "latency-ms": { type: "string", default: "0" },
    "chunk-delay-ms": { type: "string", default: "0" },
    "api-key": { type: "string" },
  },
});

const number = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} takes a number of 0 or more, not '${text}'`);
  return value;
};

const server = await startOpenAIServer({
  port: number("port", values.port),
  host: values.host,
  latencyMs: number("latency-ms", values["latency-ms"]),
  chunkDelayMs: number("chunk-delay-ms", values["chunk-delay-ms"]),
  ...(values["api-key"] !== undefined && { apiKey: values["api-key"] }),
});
process.stdout.write(`OPENAI_BASE_URL=${server.url}\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void server.close());
