import { MapFunction, type Collector } from "../api/functions.js";
import type { ServiceProxy } from "../api/types.js";
import { isInProcessProxy } from "../runtime/service-host.js";
import { wallClockMs } from "./latency-evaluate.js";
import type { LLMService } from "./llm-service.js";
import type { ChatInput, ChatOptions, ChatResult, ChatStreamEvent, Usage } from "./llm-types.js";
import { fieldOf } from "./record-fields.js";
import { wholeAnswerStreams } from "./whole-answer-stream.js";

/** Options of an OpenAIGenerator. */
export interface OpenAIGeneratorOptions extends Omit<ChatOptions, "signal"> {
  /** The LLM service to call (default `llm`). */
  service?: string;
  /**
   * Field holding the prompt or the chat messages (dotted paths allowed). By default a string
   * or an array record is the input itself, and an object's `messages`, else `prompt`, is.
   */
  input?: string;
  /** Field the answer's text goes to (default `generated`, which the evaluators read). */
  output?: string;
  /** Emit the answer's text deltas as records while it is generated (use the class in `flatMap`). */
  stream?: boolean;
}

/** What a generator emits: the record (an object; a prompt or messages as `{ input }`) with the answer, its usage and duration. */
export type Generated<T> = (unknown extends T ? Record<string, any> : T extends readonly unknown[] | string ? { input: T } : T) & {
  generated: string;
  usage: Usage;
  generationMs: number;
  cached?: boolean;
};

/** One piece of an answer being generated, emitted by a streaming OpenAIGenerator before the final record. */
export interface GenerationDelta {
  readonly kind: "delta";
  /** The new text. */
  readonly text: string;
  /** Position of this delta in its answer, from 0. */
  readonly index: number;
  /**
   * The input record's `id`, when it has one, so interleaved streams can be told apart (not named
   * `id` itself: a delta is not the record, e.g. not the answer to a served pipeline's request).
   */
  readonly of?: unknown;
}

/** Whether a record is a streaming generator's delta (and not the answer's final record). */
export function isGenerationDelta(record: unknown): record is GenerationDelta {
  return record !== null && typeof record === "object" && (record as { kind?: unknown }).kind === "delta" && typeof (record as { text?: unknown }).text === "string";
}

/**
 * Generates an answer per record through the LLM service: a map from a prompt or messages to the
 * record with `generated` (the text), `usage` and `generationMs`; a string or messages record
 * becomes `{ input, generated, ... }`. With `stream: true`, used as a flatMap, it emits each text
 * delta as a {@link GenerationDelta} record as the model produces it, then the final record, so
 * downstream operators see text as it is generated.
 * @example stream.map(OpenAIGenerator, { args: [{ maxTokens: 256 }], concurrency: 16 })
 * @example stream.flatMap(OpenAIGenerator, { args: [{ stream: true }] }).filter((r) => !isGenerationDelta(r))
 */
export class OpenAIGenerator<T = unknown> extends MapFunction<T, Generated<T>> {
  /** A map (one answer per record), and a flatMap when it streams. */
  static readonly operatorKinds = ["map", "flatMap"];

  readonly #service: string;
  readonly #input: string | undefined;
  readonly #output: string;
  readonly #stream: boolean;
  readonly #options: ChatOptions;
  #llm: ServiceProxy<LLMService> | undefined;
  #whole: ServiceProxy<LLMService> | undefined;

  constructor(options: OpenAIGeneratorOptions = {}) {
    super();
    const { service, input, output, stream, ...chat } = options;
    this.#service = service ?? "llm";
    this.#input = input;
    this.#output = output ?? "generated";
    this.#stream = stream ?? false;
    this.#options = chat;
  }

  /** Generates the answer of `record`; as a streaming flatMap, its deltas and then the answer. */
  execute(record: T): Promise<Generated<T>>;
  execute(record: T, collector: Collector<unknown>): Promise<Generated<T>> | AsyncIterable<unknown>;
  execute(record: T, second?: unknown): Promise<Generated<T>> | AsyncIterable<unknown> {
    const streaming = typeof (second as Collector<unknown> | undefined)?.collect === "function";
    if (this.#stream && !streaming) {
      throw new TypeError("OpenAIGenerator with stream: true emits several records per input: use it in flatMap(OpenAIGenerator, ...), not map");
    }
    const input = this.#promptOf(record);
    const llm = (this.#llm ??= this.service<LLMService>(this.#service));
    // No per-call signal: the job's abort already cancels the service's requests, and a signal
    // could not travel to a remote service.
    const options = this.#options;
    const started = wallClockMs();
    if (!this.#stream) return Promise.resolve(llm.chat(input, options)).then((answer) => this.#result(record, input, answer, started));
    return this.#deltas(record, input, isInProcessProxy(llm) ? llm : this.#wholeAnswers(llm), options, started);
  }

  async *#deltas(record: T, input: ChatInput, llm: ServiceProxy<LLMService>, options: ChatOptions, started: number): AsyncIterable<unknown> {
    const id = record !== null && typeof record === "object" ? (record as { id?: unknown }).id : undefined;
    const events: AsyncIterable<ChatStreamEvent> = await llm.chatStream(input, options);
    let index = 0;
    for await (const event of events) {
      if (event.type === "delta") {
        if (event.text === "") continue;
        const delta: GenerationDelta = id === undefined ? { kind: "delta", text: event.text, index } : { kind: "delta", text: event.text, index, of: id };
        index++;
        yield delta;
      } else {
        const { type: _type, ...answer } = event;
        yield this.#result(record, input, answer, started);
      }
    }
  }

  // A stream cannot come from a service in another process (registered with remote: true): each
  // answer comes whole, as one delta before the final record. Said once per instance.
  #wholeAnswers(llm: ServiceProxy<LLMService>): ServiceProxy<LLMService> {
    if (!this.#whole) {
      this.logger.warn("OpenAIGenerator stream: true: service '%s' runs in another process, so each answer arrives whole, as one delta (register it without remote: true to stream)", this.#service);
      this.#whole = wholeAnswerStreams(llm);
    }
    return this.#whole;
  }

  #result(record: T, input: ChatInput, answer: ChatResult, started: number): Generated<T> {
    const base = record !== null && typeof record === "object" && !Array.isArray(record) ? (record as object) : { input };
    return {
      ...base,
      [this.#output]: answer.text,
      usage: answer.usage,
      generationMs: Math.round((wallClockMs() - started) * 1000) / 1000,
      ...(answer.cached && { cached: true }),
    } as Generated<T>;
  }

  #promptOf(record: T): ChatInput {
    const value = this.#input !== undefined ? fieldOf(record, this.#input) : defaultInput(record);
    if (typeof value === "string" || (Array.isArray(value) && value.length > 0)) return value as ChatInput;
    const where = this.#input !== undefined ? `field '${this.#input}'` : "the record (a string, messages, or an object with 'messages' or 'prompt')";
    throw new TypeError(`OpenAIGenerator needs a prompt or chat messages in ${where}`);
  }
}

function defaultInput(record: unknown): unknown {
  if (typeof record === "string" || Array.isArray(record)) return record;
  if (record !== null && typeof record === "object") return (record as { messages?: unknown }).messages ?? (record as { prompt?: unknown }).prompt;
  return undefined;
}
