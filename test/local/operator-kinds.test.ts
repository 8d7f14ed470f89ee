import { describe, expect, it } from "vitest";
import { LocalEnvironment, MapFunction, PipelineDefinitionError, type Collector } from "../../src/index.js";

/** A map that, used as a flatMap, emits every step of its work (as a streaming generator does). */
class Spell extends MapFunction<string, string> {
  static readonly operatorKinds = ["map", "flatMap"];

  execute(word: string, second?: unknown): string {
    const collector = second as Collector<string> | undefined;
    if (typeof collector?.collect === "function") for (const letter of word) collector.collect(letter);
    return word.toUpperCase();
  }
}

class Plain extends MapFunction<string, string> {
  execute(word: string): string {
    return word;
  }
}

describe("a function class made for several operator kinds", () => {
  it("runs as a map and as a flatMap when it lists both in operatorKinds", async () => {
    const mapped: string[] = [];
    const flat: string[] = [];
    const env = new LocalEnvironment("operator_kinds");
    const words = env.fromBatch(["ab", "c"]);
    words.map(Spell).sink((x: string) => void mapped.push(x));
    words.flatMap<string>(Spell as never).sink((x: string) => void flat.push(x));
    await env.submit({ autostop: true });
    await env.close();
    expect(mapped).toEqual(["AB", "C"]);
    expect(flat).toEqual(["a", "b", "AB", "c", "C"]);
  });

  it("is refused in a kind it does not list", () => {
    const env = new LocalEnvironment("operator_kinds_refused");
    expect(() => env.fromBatch(["a"]).flatMap(Plain as never)).toThrow(PipelineDefinitionError);
    expect(() => env.fromBatch(["a"]).filter(Spell as never)).toThrow(/filter needs a FilterFunction class/);
  });
});
