/** The OpenAI-protocol test server, for tests (it ships in `sage/llm` so examples can start it too). */
import { afterEach } from "vitest";
import { LLMService } from "../../src/llm/llm-service.js";
import type { LLMServiceOptions } from "../../src/llm/llm-types.js";
import { startOpenAIServer, type OpenAIServer, type OpenAIServerOptions } from "../../src/llm/testing/openai-server.js";

export { startOpenAIServer, type Fault, type OpenAIServer, type OpenAIServerOptions, type RecordedRequest } from "../../src/llm/testing/openai-server.js";

/** Resolves once `condition()` holds (checked every 5 ms); rejects naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what = "condition", timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A test server and an LLMService on it per test: `serve()` starts the server alone, `start()` both
 * (the service set up, with `defaults` under the test's options). After each test the service is
 * cleaned up, its connections must have closed (the server saw every socket end), then the server closes.
 */
export function llmTestbed(defaults: LLMServiceOptions) {
  let server: OpenAIServer | undefined;
  let llm: LLMService | undefined;
  afterEach(async () => {
    await llm?.cleanup();
    if (server) await until(() => server!.sockets.open === 0, "the service's connections closed");
    await server?.close();
    server = llm = undefined;
  });
  const serve = async (serverOptions: OpenAIServerOptions = {}): Promise<OpenAIServer> => (server = await startOpenAIServer(serverOptions));
  const start = async (serverOptions: OpenAIServerOptions = {}, options: LLMServiceOptions | ((url: string) => LLMServiceOptions) = {}): Promise<{ server: OpenAIServer; llm: LLMService }> => {
    const started = await serve(serverOptions);
    llm = new LLMService({ baseURL: started.url, ...defaults, ...(typeof options === "function" ? options(started.url) : options) });
    await llm.setup();
    return { server: started, llm };
  };
  return { serve, start };
}
