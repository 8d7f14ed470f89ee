// Distributed mode: a remote service and remote operator instances on cluster workers.
// With no cluster configured this starts an embedded local one (nats-server + 2 workers, like
// ray.init()); set SAGE_CLUSTER=nats://host:4222 to run the same code on your workers.
import { BaseService, KeyByFunction, LocalEnvironment, MapFunction, SinkFunction } from "sage";

/** Lives on a worker: one instance, called by every operator instance over NATS. */
class StopWords extends BaseService {
  #words = new Set<string>();
  setup() {
    for (const word of ["a", "the", "is", "of", "and", "to"]) this.#words.add(word);
  }
  isStopWord(word: string): boolean {
    return this.#words.has(word);
  }
}

/** Keyed state: a running count per word, kept by the instance that owns the word's key. */
class CountWords extends MapFunction<string, [string, number]> {
  #counts = new Map<string, number>();
  execute(word: string): [string, number] {
    const count = (this.#counts.get(word) ?? 0) + 1;
    this.#counts.set(word, count);
    return [word, count];
  }
}

class ByWord extends KeyByFunction<string, string> {
  execute(word: string) {
    return word;
  }
}

/** Runs in this process: keeps the last count of each word and prints them sorted at the end. */
class PrintCounts extends SinkFunction<[string, number]> {
  #counts = new Map<string, number>();
  execute([word, count]: [string, number]) {
    this.#counts.set(word, Math.max(count, this.#counts.get(word) ?? 0));
  }
  close() {
    const sorted = [...this.#counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    for (const [word, count] of sorted) console.log(`${word}: ${count}`);
  }
}

const sentences = [
  "the cluster is a set of workers",
  "a worker runs the remote parts of a job",
  "the driver runs the sources and the sinks",
  "records move between workers in batches",
];

const env = new LocalEnvironment("distributed_wordcount");
env.registerService("stopwords", StopWords, { remote: true });
env
  .fromBatch(sentences)
  .flatMap((sentence: string) => sentence.split(" "))
  .filter(async (word: string, ctx) => !(await ctx.service<StopWords>("stopwords").isStopWord(word)), { remote: true, parallelism: 2 })
  .keyBy(ByWord)
  .map(CountWords, { remote: true, parallelism: 2 })
  .sink(PrintCounts);
await env.submit({ autostop: true });
console.log("Distributed word count finished");
