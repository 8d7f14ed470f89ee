/**
 * Runs the OpenAI-protocol test server as a process: prints `OPENAI_BASE_URL=<url>` on its first
 * line of output and serves until SIGINT or SIGTERM.
 * Usage: see USAGE below.
 * @module
 */
import { parseArgs } from "node:util";
import { echoAnswer } from "./openai-answers.js";
import { extractiveAnswer } from "./extractive-answer.js";
import { startOpenAIServer } from "./openai-server.js";

const USAGE = `Usage: node dist/llm/testing/openai-server-main.js [options]
Serves the OpenAI protocol (chat completions, streaming, embeddings) on loopback for tests and offline runs.
  --port N            port (default 0: a free one; the URL is printed as OPENAI_BASE_URL=...)
  --host H            address to listen on (default 127.0.0.1)
  --answer KIND       echo (default: "echo: <last user message>") or extractive (the context sentence closest to the question)
  --latency-ms N      delay of every answer
  --chunk-delay-ms N  delay between streamed chunks
  --api-key K         require "Authorization: Bearer K"
  --help              this text`;

const ANSWERS = { echo: echoAnswer, extractive: extractiveAnswer } as const;

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      answer: { type: "string", default: "echo" },
      "latency-ms": { type: "string", default: "0" },
      "chunk-delay-ms": { type: "string", default: "0" },
      "api-key": { type: "string" },
      help: { type: "boolean", default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const answer = ANSWERS[values.answer as keyof typeof ANSWERS];
if (answer === undefined) {
  process.stderr.write(`--answer takes echo or extractive, not '${String(values.answer)}'\n`);
  process.exit(2);
}

const number = (name: string, text: unknown): number => {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} takes a number of 0 or more, not '${text}'`);
  return value;
};

const server = await startOpenAIServer({
  port: number("port", values.port),
  host: String(values.host),
  answer,
  latencyMs: number("latency-ms", values["latency-ms"]),
  chunkDelayMs: number("chunk-delay-ms", values["chunk-delay-ms"]),
  ...(typeof values["api-key"] === "string" && { apiKey: values["api-key"] }),
});
process.stdout.write(`OPENAI_BASE_URL=${server.url}\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void server.close());
