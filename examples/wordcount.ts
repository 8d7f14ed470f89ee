/**
 * Word count: sentences are split into words, paired with 1, and summed by a sink that prints
 * the totals when the stream ends (in close()). Port of SAGE's hello_wordcount_batch_example.py.
 */
import { BatchFunction, FlatMapFunction, LocalEnvironment, SinkFunction, type Collector } from "sage";

/** Emits a few sentences, one per call, then ends the batch. */
class SentenceBatch extends BatchFunction<string> {
  readonly #sentences = ["hello world", "hello sage", "hello chatgpt", "world of ai", "sage world"];
  #index = 0;

  override execute(): string | undefined {
    return this.#sentences[this.#index++]; // undefined past the end ends the batch
  }
}

/** Splits a sentence into words. */
class SplitWords extends FlatMapFunction<string, string> {
  override execute(sentence: string, collector: Collector<string>): void {
    for (const word of sentence.split(/\s+/)) collector.collect(word);
  }
}

/** Sums the counts per word and prints them, most frequent first, once the input is over. */
class WordCountSink extends SinkFunction<[string, number]> {
  readonly #counts = new Map<string, number>();

  override execute([word, count]: [string, number]): void {
    this.#counts.set(word, (this.#counts.get(word) ?? 0) + count);
  }

  close(): void {
    // ties broken alphabetically, so the output never depends on arrival order
    const sorted = [...this.#counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
    console.log("WordCount results:");
    for (const [word, count] of sorted) console.log(`${word}: ${count}`);
  }
}

const env = new LocalEnvironment("wordcount");
env
  .fromBatch(SentenceBatch)
  .flatMap(SplitWords)
  .map((word): [string, number] => [word, 1])
  .sink(WordCountSink);

await env.submit({ autostop: true });
console.log("WordCount batch example finished");
