/**
 * The peers of the LLM bench: each sends the same chat requests (one user message, `max_tokens`
 * 16) with the same number in flight and returns the answers' texts in input order.
 */
import { LocalEnvironment } from "../../src/index.js";
import { LLMService } from "../../src/llm/index.js";

/** What a child knows about the run. */
export interface PeerContext {
  baseURL: string;
  concurrency: number;
  model: string;
  /** Set for the rate-limited SAGE row. */
  requestsPerMinute?: number;
}

/** A peer made ready: `run` sends every prompt and returns the answers (`measured`: false for the warm-up). */
export interface PreparedPeer {
  run(prompts: string[], measured: boolean): Promise<string[]>;
  dispose?(): Promise<void> | void;
}

/** One row of the table. */
export interface Peer {
  label: string;
  sage: boolean;
  prepare(ctx: PeerContext): Promise<PreparedPeer>;
}

const MAX_TOKENS = 16;
const API_KEY = "bench-key";

/** Runs `fn` over `items` with `concurrency` calls in flight (a sliding window of workers). */
async function inFlight<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

const messagesOf = (prompt: string) => [{ role: "user" as const, content: prompt }];

function sagePipeline(withLimit: boolean): Peer["prepare"] {
  return async (ctx) => ({
    async run(prompts, measured) {
      const answers: string[] = new Array(prompts.length);
      const env = new LocalEnvironment("bench-llm", { logLevel: "warn" });
      // The warm-up runs the same code without the limit, so that it takes no longer than the others'.
      env.registerService("llm", LLMService, {
        args: [{ baseURL: ctx.baseURL, apiKey: API_KEY, model: ctx.model, maxRetries: 0, ...(withLimit && measured && { requestsPerMinute: ctx.requestsPerMinute }) }],
      });
      env
        .fromBatch(prompts.map((prompt, index) => ({ prompt, index })))
        .map(async (item, fctx) => ({ index: item.index, text: (await fctx.service<LLMService>("llm").chat(item.prompt, { maxTokens: MAX_TOKENS })).text }), { concurrency: ctx.concurrency })
        .sink((answer) => void (answers[answer.index] = answer.text));
      await env.submit({ autostop: true });
      await env.close();
      return answers;
    },
  });
}

/** Every peer by id. */
export const PEERS: Record<string, Peer> = {
  sage: { label: "SAGE: pipeline, map concurrency 64 over LLMService", sage: true, prepare: sagePipeline(false) },
  "sage-callers": {
    label: "SAGE: LLMService called by 64 callers (no pipeline)",
    sage: true,
    async prepare(ctx) {
      const llm = new LLMService({ baseURL: ctx.baseURL, apiKey: API_KEY, model: ctx.model, maxRetries: 0 });
      return {
        run: (prompts) => inFlight(prompts, ctx.concurrency, async (prompt) => (await llm.chat(prompt, { maxTokens: MAX_TOKENS })).text),
        dispose: () => llm.cleanup(),
      };
    },
  },
  openai: {
    label: "official openai client (default fetch), loop",
    sage: false,
    async prepare(ctx) {
      const { default: OpenAI } = await import("openai");
      const client = new OpenAI({ baseURL: ctx.baseURL, apiKey: API_KEY, maxRetries: 0 });
      return {
        run: (prompts) =>
          inFlight(prompts, ctx.concurrency, async (prompt) => (await client.chat.completions.create({ model: ctx.model, messages: messagesOf(prompt), max_tokens: MAX_TOKENS })).choices[0]!.message.content ?? ""),
      };
    },
  },
  "openai-undici": {
    label: "official openai client over undici fetch + Agent, loop",
    sage: false,
    async prepare(ctx) {
      const { default: OpenAI } = await import("openai");
      const { Agent, fetch } = await import("undici");
      const agent = new Agent({ connections: ctx.concurrency });
      // Casts: undici's own types and the copy bundled with Node's fetch types differ in detail.
      const client = new OpenAI({ baseURL: ctx.baseURL, apiKey: API_KEY, maxRetries: 0, fetch: fetch as unknown as typeof globalThis.fetch, fetchOptions: { dispatcher: agent } as never });
      return {
        run: (prompts) =>
          inFlight(prompts, ctx.concurrency, async (prompt) => (await client.chat.completions.create({ model: ctx.model, messages: messagesOf(prompt), max_tokens: MAX_TOKENS })).choices[0]!.message.content ?? ""),
        dispose: () => agent.close(),
      };
    },
  },
  fetch: {
    label: "global fetch, loop",
    sage: false,
    async prepare(ctx) {
      const url = `${ctx.baseURL}/chat/completions`;
      const headers = { "content-type": "application/json", authorization: `Bearer ${API_KEY}` };
      return {
        run: (prompts) =>
          inFlight(prompts, ctx.concurrency, async (prompt) => {
            const response = await fetch(url, { method: "POST", headers, body: JSON.stringify({ model: ctx.model, messages: messagesOf(prompt), max_tokens: MAX_TOKENS }) });
            if (!response.ok) throw new Error(`HTTP ${response.status}`);
            return ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
          }),
      };
    },
  },
  undici: {
    label: "undici Pool.request, loop",
    sage: false,
    async prepare(ctx) {
      const { Pool } = await import("undici");
      const url = new URL(ctx.baseURL);
      const pool = new Pool(url.origin, { connections: ctx.concurrency });
      const path = `${url.pathname}/chat/completions`;
      const headers = { "content-type": "application/json", authorization: `Bearer ${API_KEY}` };
      return {
        run: (prompts) =>
          inFlight(prompts, ctx.concurrency, async (prompt) => {
            const response = await pool.request({ method: "POST", path, headers, body: JSON.stringify({ model: ctx.model, messages: messagesOf(prompt), max_tokens: MAX_TOKENS }) });
            if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
            return ((await response.body.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
          }),
        dispose: () => pool.close(),
      };
    },
  },
  langchain: {
    label: "LangChain.js ChatOpenAI.batch, maxConcurrency 64",
    sage: false,
    async prepare(ctx) {
      const { ChatOpenAI } = await import("@langchain/openai");
      const chat = new ChatOpenAI({ model: ctx.model, apiKey: API_KEY, configuration: { baseURL: ctx.baseURL }, maxTokens: MAX_TOKENS, maxRetries: 0, maxConcurrency: ctx.concurrency });
      return {
        async run(prompts) {
          const messages = await chat.batch(prompts, { maxConcurrency: ctx.concurrency });
          return messages.map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)));
        },
      };
    },
  },
  "sage-rpm": { label: "SAGE: pipeline with requestsPerMinute set", sage: true, prepare: sagePipeline(true) },
};
