/** The OpenAI-protocol test server, for tests (it ships in `sage/llm` so examples can start it too). */
export { startOpenAIServer, type Fault, type OpenAIServer, type OpenAIServerOptions, type RecordedRequest } from "../../src/llm/testing/openai-server.js";
