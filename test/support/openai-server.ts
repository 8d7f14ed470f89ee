/** The OpenAI-protocol test server, for tests (it ships in `sage/llm` so examples can start it too). */
export { startOpenAIServer, type Fault, type OpenAIServer, type OpenAIServerOptions, type RecordedRequest } from "../../src/llm/testing/openai-server.js";

/** Resolves once `condition()` holds (checked every 5 ms); rejects naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what = "condition", timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
