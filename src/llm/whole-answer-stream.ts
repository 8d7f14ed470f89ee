import type { ServiceProxy } from "../api/types.js";
import type { LLMService } from "./llm-service.js";
import type { ChatInput, ChatOptions, ChatStreamEvent } from "./llm-types.js";

/**
 * For an LLM service in another process (a stream cannot travel between processes): the proxy
 * with `chatStream` answered by `chat`, its whole text as one delta and then the answer, so a
 * streaming consumer works unchanged, only without text as it is generated.
 */
export function wholeAnswerStreams(llm: ServiceProxy<LLMService>): ServiceProxy<LLMService> {
  const proxy = Object.create(llm) as { chatStream: (input: ChatInput, options?: ChatOptions) => Promise<AsyncIterable<ChatStreamEvent>> };
  proxy.chatStream = async (input, options) => wholeAnswer(await llm.chat(input, options));
  return proxy as unknown as ServiceProxy<LLMService>;
}

async function* wholeAnswer(answer: Awaited<ReturnType<LLMService["chat"]>>): AsyncGenerator<ChatStreamEvent> {
  if (answer.text !== "") yield { type: "delta", text: answer.text };
  yield { type: "done", ...answer };
}
