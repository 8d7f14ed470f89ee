/**
 * A question-answering pipeline served as a service: the RAG pipeline (retrieve -> prompt ->
 * generate) answers requests arriving through the service "qa", and a terminal session (a
 * pipeline asking one question at a time, until "bye bye") calls it like any service. Autostop
 * ends both once the session is over. Offline by default (a local OpenAI-protocol server answers
 * from the prompt's context); set OPENAI_BASE_URL to ask a real endpoint.
 * Port of SAGE's service/pipeline_as_service/qa_pipeline_as_service.py, whose terminal client
 * reads the questions from stdin; here the session is scripted so the output is the same on every run.
 */
import { LocalEnvironment, replyTo, type PipelineService } from "sage";
import { OpenAIGenerator, QAPromptor, VectorRetriever, VectorStore } from "sage/llm";
import { buildIndex, embedder, INDEX } from "../rag/index.js";
import { registerLLM } from "../rag/llm.js";

/** What the user types, line by line. */
const SESSION = ["How many calls does a service handle at a time by default?", "Which responses are retried?", "What happens to the parts of a worker that dies?", "bye bye", "never asked"];

await buildIndex(new LocalEnvironment("qa_index", { logLevel: "warn" }));

const env = new LocalEnvironment("qa_pipeline_as_service", { logLevel: "warn" });
env.registerService("vectors", VectorStore, { args: [{ path: INDEX }] });
registerLLM(env);

// The served QA pipeline: each request's payload is a question, its answer the generated text.
env
  .fromService<string>("qa", { name: "QARequests" })
  .map(VectorRetriever, { args: [{ embedder, query: "payload", topK: 3 }] })
  .map(QAPromptor, { args: [{ question: "payload", contexts: "passages", output: "messages" }] })
  .map(OpenAIGenerator, { args: [{ maxTokens: 80, temperature: 0 }], concurrency: 4 })
  .map((r) => ({ id: r.id as string, payload: r.generated }), { name: "Answer" })
  .sink(replyTo("qa"));

// The terminal session: questions until "bye bye", each sent to the QA service and answered in turn.
env
  .fromBatch(function* () {
    for (const line of SESSION) {
      if (line.trim() === "bye bye") return;
      yield line;
    }
  }, { name: "Terminal" })
  .map(async (question: string, ctx) => ({ question, answer: await ctx.service<PipelineService<string, string>>("qa").process(question) }), { name: "AskQA" })
  .sink(({ question, answer }: { question: string; answer: string }) => {
    console.log(`> ${question}`);
    console.log(`  ${answer}`);
  });

await env.submit({ autostop: true });
console.log("bye bye");
console.log("QA pipeline as a service example finished");
