/** The "llm" service of the RAG examples: a real OpenAI-compatible endpoint when OPENAI_BASE_URL is set, else an offline model. */
import { BaseService, type BaseEnvironment } from "sage";
import { extractiveAnswer, LLMService, startOpenAIServer, type OpenAIServer } from "sage/llm";

/**
 * The offline model: a small OpenAI-protocol server, started for the job and stopped with it,
 * that answers with the context sentence closest to the question. Deterministic, no download.
 */
class OfflineModel extends BaseService {
  #server: OpenAIServer | undefined;

  async setup(): Promise<void> {
    this.#server = await startOpenAIServer({ answer: extractiveAnswer, model: "offline-extractive" });
  }

  /** The server's base URL, for the LLM service. */
  url(): string {
    return this.#server!.url;
  }

  async cleanup(): Promise<void> {
    await this.#server?.close();
  }
}

/** Registers "llm": the endpoint of OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL, or the offline model. */
export function registerLLM(env: BaseEnvironment): void {
  if (process.env.OPENAI_BASE_URL) {
    env.registerService("llm", LLMService, { args: [{ requestsPerMinute: 500 }] });
    return;
  }
  // Services start in registration order, so the model is up when the LLM service asks its URL.
  env.registerService("model", OfflineModel);
  env.registerService(
    "llm",
    async (ctx) => new LLMService({ baseURL: await ctx.service<OfflineModel>("model").url(), apiKey: "offline", model: "offline-extractive" }),
    { maxConcurrency: 64 },
  );
}
