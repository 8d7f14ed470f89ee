/** The OpenAI-protocol test server, checked with the official `openai` client (what the service must match). */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { encode, encodeChat } from "gpt-tokenizer";
import OpenAI, { type APIError } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { startOpenAIServer, until, type OpenAIServer } from "../support/openai-server.js";

let server: OpenAIServer | undefined;

afterEach(async () => {
  await server?.close();
  // nothing of the server is left: every connection it accepted is closed
  if (server) expect(server.sockets.open).toBe(0);
  server = undefined;
});

function clientOf(s: OpenAIServer, options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
  return new OpenAI({ baseURL: s.url, apiKey: "test-key", maxRetries: 0, ...options });
}

describe("OpenAI-protocol test server", () => {
  it("answers a chat completion deterministically, with exact o200k usage", async () => {
    server = await startOpenAIServer();
    const messages = [
      { role: "system" as const, content: "Be brief." },
      { role: "user" as const, content: "What is the capital of France?" },
    ];
    const completion = await clientOf(server).chat.completions.create({ model: "m1", messages });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("m1");
    expect(completion.choices[0]!.message.content).toBe("echo: What is the capital of France?");
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    // counted independently: gpt-tokenizer's own chat encoding for gpt-4o, and the answer's tokens
    expect(completion.usage).toEqual({
      prompt_tokens: encodeChat(messages, "gpt-4o").length,
      completion_tokens: encode("echo: What is the capital of France?").length,
      total_tokens: encodeChat(messages, "gpt-4o").length + encode("echo: What is the capital of France?").length,
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers.authorization).toBe("Bearer test-key");
    expect(server.requests[0]!.body).toMatchObject({ model: "m1", messages });
  });

  it("applies max_tokens and stop", async () => {
    server = await startOpenAIServer({ answer: () => "one two three four five six" });
    const client = clientOf(server);
    const cut = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }], max_tokens: 2 });
    expect(cut.choices[0]!.message.content).toBe("one two");
    expect(cut.choices[0]!.finish_reason).toBe("length");
    expect(cut.usage!.completion_tokens).toBe(2);
    const stopped = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }], stop: [" four"] });
    expect(stopped.choices[0]!.message.content).toBe("one two three");
  });

  it("streams token deltas as SSE, with usage in a final chunk when asked", async () => {
    server = await startOpenAIServer({ answer: () => "Streaming works, token by token." });
    const stream = await clientOf(server).chat.completions.create({ model: "m", messages: [{ role: "user", content: "go" }], stream: true, stream_options: { include_usage: true } });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas.join("")).toBe("Streaming works, token by token.");
    expect(deltas).toHaveLength(encode("Streaming works, token by token.").length);
    expect(finish).toBe("stop");
    expect(usage?.completion_tokens).toBe(deltas.length);
  });

  it("answers embeddings as floats and as base64 (the official client's default)", async () => {
    server = await startOpenAIServer({ embeddingDimensions: 16 });
    const client = clientOf(server);
    const viaBase64 = await client.embeddings.create({ model: "e", input: ["alpha beta", "gamma"] });
    const viaFloats = await client.embeddings.create({ model: "e", input: ["alpha beta", "gamma"], encoding_format: "float" });
    expect(viaBase64.data.map((d) => d.embedding.length)).toEqual([16, 16]);
    for (let i = 0; i < 2; i++) viaBase64.data[i]!.embedding.forEach((x, j) => expect(x).toBeCloseTo(viaFloats.data[i]!.embedding[j]!, 6));
    expect(viaFloats.usage.prompt_tokens).toBe(encode("alpha beta").length + encode("gamma").length);
    const shorter = await client.embeddings.create({ model: "e", input: "alpha", dimensions: 4, encoding_format: "float" });
    expect(shorter.data[0]!.embedding).toHaveLength(4);
  });

  it("answers scripted faults in order: 429 with Retry-After, 503, 400 with an OpenAI-style error", async () => {
    server = await startOpenAIServer();
    const date = new Date(Date.now() + 5000).toUTCString();
    server.fail({ status: 429, retryAfter: 2 }, { status: 429, retryAfter: date, retryAfterMs: 1500 }, { status: 503 }, { status: 400, message: "'temperature' is too high", code: "invalid_value" });
    const client = clientOf(server);
    const ask = () => client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }).then(() => undefined, (error: unknown) => error);
    const first = (await ask()) as APIError;
    expect(first).toBeInstanceOf(OpenAI.RateLimitError);
    expect(first.headers?.get("retry-after")).toBe("2");
    const second = (await ask()) as APIError;
    expect(second.headers?.get("retry-after")).toBe(date);
    expect(second.headers?.get("retry-after-ms")).toBe("1500");
    expect(await ask()).toBeInstanceOf(OpenAI.InternalServerError);
    const bad = (await ask()) as APIError;
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.message).toBe("400 'temperature' is too high");
    expect(bad.code).toBe("invalid_value");
    expect(await ask()).toBeUndefined(); // the queue is used up: a normal answer
    expect(server.requests.map((r) => r.status)).toEqual([429, 429, 503, 400, 200]);
  });

  it("delays, drops and never answers as told, and counts the sockets that closed", async () => {
    server = await startOpenAIServer({ faults: (r) => ((r.body as { messages: Array<{ content: string }> }).messages[0]!.content === "hang" ? { hang: true } : undefined) });
    const client = clientOf(server);
    server.fail({ delayMs: 150 });
    const started = performance.now();
    await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "slow" }] });
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);

    server.fail({ drop: true });
    await expect(client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(server.requests[1]!.closedEarly).toBe(true);

    const controller = new AbortController();
    const hanging = client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hang" }] }, { signal: controller.signal });
    await until(() => server!.requests.length === 3 && server!.inFlight === 1);
    const closedBefore = server.sockets.closed;
    controller.abort();
    await expect(hanging).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    // the client's abort reaches the server as a closed connection
    await until(() => server!.sockets.closed > closedBefore);
    expect(server.requests[2]!.closedEarly).toBe(true);
    expect(server.inFlight).toBe(0);
  });

  it("refuses a wrong API key when it has one, and unknown paths, the OpenAI way", async () => {
    server = await startOpenAIServer({ apiKey: "right" });
    await expect(clientOf(server, { apiKey: "wrong" }).chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const models = await clientOf(server, { apiKey: "right" }).models.list();
    expect(models.data.map((m) => m.id)).toEqual(["sage-echo"]);
    const missing = await fetch(`${server.url}/nothing`, { method: "POST", headers: { authorization: "Bearer right" } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain("/v1/nothing");
  });

  it("runs as a process of its own: prints its URL, serves, and exits on SIGTERM", async () => {
    const main = fileURLToPath(new URL("../../src/llm/testing/openai-server-main.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", main, "--latency-ms", "20"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
      await until(() => out.includes("\n"), "the server's URL line", 15_000);
      const url = /^OPENAI_BASE_URL=(http:\/\/127\.0\.0\.1:\d+\/v1)$/m.exec(out)?.[1];
      expect(url).toBeDefined();
      const started = performance.now();
      const completion = await new OpenAI({ baseURL: url, apiKey: "any", maxRetries: 0 }).chat.completions.create({ model: "m", messages: [{ role: "user", content: "ping" }] });
      expect(completion.choices[0]!.message.content).toBe("echo: ping");
      expect(performance.now() - started).toBeGreaterThanOrEqual(19);
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("as a process: --help explains the options, an unknown option is refused with them, --answer picks the answers", async () => {
    const main = fileURLToPath(new URL("../../src/llm/testing/openai-server-main.ts", import.meta.url));
    const help = spawnSync(process.execPath, ["--import", "tsx", main, "--help"], { encoding: "utf8", timeout: 20_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--answer KIND");
    const bad = spawnSync(process.execPath, ["--import", "tsx", main, "--bogus"], { encoding: "utf8", timeout: 20_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--bogus'[\s\S]*Usage:/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const child = spawn(process.execPath, ["--import", "tsx", main, "--answer", "extractive"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
      await until(() => out.includes("\n"), "the server's URL line", 15_000);
      const url = /^OPENAI_BASE_URL=(\S+)$/m.exec(out)![1];
      const completion = await new OpenAI({ baseURL: url, apiKey: "any", maxRetries: 0 }).chat.completions.create({
        model: "m",
        messages: [
          { role: "system", content: "Context:\n[1] Cats sleep on sofas. Dogs sleep in baskets." },
          { role: "user", content: "Where do dogs sleep?" },
        ],
      });
      expect(completion.choices[0]!.message.content).toBe("Dogs sleep in baskets.");
    } finally {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  });
});

