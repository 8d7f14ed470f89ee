/**
 * Compile-time checks (type-checked by `npm test`, never run): the toolkit's documented usages
 * compile without casts in a strict TypeScript project.
 */
import { LocalEnvironment, replyTo, type ServiceRequest } from "../../src/index.js";
import { isGenerationDelta, OpenAIGenerator } from "../../src/llm/index.js";

export function documentedUsages(env: LocalEnvironment): void {
  // A streaming generator in a flatMap (the class's own @example), then only the answers.
  env.fromBatch([{ id: "a", prompt: "p" }]).flatMap(OpenAIGenerator, { args: [{ stream: true }] }).filter((r) => !isGenerationDelta(r)).sink(() => {});
  // A served pipeline answering with the generated text.
  env
    .fromService<string>("qa")
    .map((r: ServiceRequest<string>) => ({ id: r.id, prompt: r.payload }))
    .map(OpenAIGenerator)
    .sink(replyTo("qa", (r) => r.generated));
  // The record's own fields stay readable after the generator.
  env.fromBatch([{ id: "b", prompt: "p", gold: 1 }]).map(OpenAIGenerator, { args: [{ maxTokens: 4 }] }).sink((r) => [r.id, r.gold, r.generated, r.usage.promptTokens]);
  env.fromBatch(["a plain prompt"]).map(OpenAIGenerator).sink((r) => [r.input, r.generated]);
}
