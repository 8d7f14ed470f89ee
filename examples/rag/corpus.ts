/** The small corpus and question set of the RAG examples: travels with the job module, so every mode sees the same data. */

/** A document of the corpus. */
export interface Document {
  id: string;
  title: string;
  text: string;
}

/** A question with its reference answers and the document that holds the answer. */
export interface Question {
  id: string;
  question: string;
  answers: string[];
  source: string;
}

/** Short documents about how this framework works. */
export const DOCUMENTS: Document[] = [
  {
    id: "autostop",
    title: "Autostop",
    text: "A bounded job ends by itself once every source has been consumed. With autostop, submit returns only after the job has finished and every task and service has been stopped and cleaned up. Services are cleaned up in reverse registration order, each cleanup under its own timeout. If the job fails, submit rejects with a JobFailedError that carries the final status. After submit returns, a plain script exits by itself because no timer, socket or child process is left open.",
  },
  {
    id: "backpressure",
    title: "Backpressure",
    text: "Records move between tasks in batches over bounded channels. When a downstream operator is slower than its upstream, the channel fills and the sender waits, so memory stays flat however long the input is. Between processes in distributed mode, credit-based flow control allows at most 128 batches in flight on each channel.",
  },
  {
    id: "distributed",
    title: "Distributed mode",
    text: "In distributed mode, operators and services marked remote run on worker processes that join a cluster over NATS JetStream. Workers register themselves in a key-value bucket with their slots, and the driver places each remote part on a worker with free slots. When a worker dies, its parts are placed again on the remaining workers and unacknowledged batches are delivered once more.",
  },
  {
    id: "keyby",
    title: "Keyed streams",
    text: "The keyBy operator partitions a stream by a key that a function extracts from each record. Records with equal keys always reach the same downstream instance, so a running sum per key can be kept in that instance's memory. The key is hashed to choose the instance, which spreads distinct keys evenly across the parallel instances of the next operator.",
  },
  {
    id: "rate-limits",
    title: "Rate limits",
    text: "The LLM service enforces requests per minute and tokens per minute across every operator instance that calls it. Tokens are counted with a real tokenizer before each request and corrected from the usage the server reports. Responses with status 429 or 5xx are retried with exponential backoff and jitter, and a Retry-After header sets the earliest time of the next attempt.",
  },
  {
    id: "services",
    title: "Services",
    text: "A service is a stateful object that lives for the whole job, such as a vector store, a memory or an LLM client. Operators call a service through a proxy returned by ctx.service. A service handles one call at a time, like an actor, unless it is registered with a maxConcurrency greater than one. Its setup hook runs before any record flows and its cleanup hook runs when the job ends.",
  },
];

/** Questions over the corpus, each answered by one of its sentences. */
export const QUESTIONS: Question[] = [
  { id: "q1", question: "When does submit return with autostop?", answers: ["after the job has finished and every task and service has been stopped and cleaned up"], source: "autostop" },
  { id: "q2", question: "In which order are services cleaned up?", answers: ["in reverse registration order"], source: "autostop" },
  { id: "q3", question: "Where do records with equal keys go after keyBy?", answers: ["the same downstream instance"], source: "keyby" },
  { id: "q4", question: "How many calls does a service handle at a time by default?", answers: ["one call at a time"], source: "services" },
  { id: "q5", question: "Why does memory stay flat when a downstream operator is slower than its upstream?", answers: ["the channel fills and the sender waits"], source: "backpressure" },
  { id: "q6", question: "How many batches may be in flight on each channel between processes?", answers: ["at most 128 batches"], source: "backpressure" },
  { id: "q7", question: "What happens to the parts of a worker that dies?", answers: ["its parts are placed again on the remaining workers"], source: "distributed" },
  { id: "q8", question: "Which responses are retried?", answers: ["responses with status 429 or 5xx"], source: "rate-limits" },
];
