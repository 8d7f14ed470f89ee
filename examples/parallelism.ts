/**
 * Parallelism: operators run as several instances. Part 1 runs a map as 3 instances and a
 * filter as 2; part 2 shows that after keyBy, records with equal keys always reach the same
 * instance (ctx.instanceIndex tells which). Instances run concurrently, so results are printed
 * sorted. Port of SAGE's parallelism_local_validation.py.
 */
import { FilterFunction, LocalEnvironment, MapFunction, SinkFunction } from "sage";

/** Squares a number. */
class Square extends MapFunction<number, number> {
  override execute(n: number): number {
    return n * n;
  }
}

/** Keeps even numbers. */
class EvenFilter extends FilterFunction<number> {
  override execute(n: number): boolean {
    return n % 2 === 0;
  }
}

/** Collects the numbers and prints them in ascending order at the end. */
class SortedNumbersSink extends SinkFunction<number> {
  readonly #numbers: number[] = [];

  override execute(n: number): void {
    this.#numbers.push(n);
  }

  close(): void {
    console.log(`even squares: ${this.#numbers.sort((a, b) => a - b).join(", ")}`);
  }
}

const env = new LocalEnvironment("parallelism");
env
  .fromCollection(Array.from({ length: 10 }, (_, i) => i + 1))
  .map(Square, { parallelism: 3 })
  .filter(EvenFilter, { parallelism: 2 })
  .sink(SortedNumbersSink);
await env.submit({ autostop: true });

/** Records which instance saw which word. */
class KeyRouting extends SinkFunction<{ word: string; instance: number }> {
  readonly #instancesPerWord = new Map<string, Set<number>>();
  readonly #countPerWord = new Map<string, number>();

  override execute({ word, instance }: { word: string; instance: number }): void {
    this.#instancesPerWord.set(word, (this.#instancesPerWord.get(word) ?? new Set()).add(instance));
    this.#countPerWord.set(word, (this.#countPerWord.get(word) ?? 0) + 1);
  }

  close(): void {
    for (const word of [...this.#countPerWord.keys()].sort()) {
      const records = this.#countPerWord.get(word)!;
      const instances = this.#instancesPerWord.get(word)!.size;
      console.log(`${word}: ${plural(records, "record")}, seen by ${plural(instances, "instance")}`);
    }
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

const words = "sage flow llm sage join flow sage map llm sage".split(" ");
const keyed = new LocalEnvironment("keyed_parallelism");
keyed
  .fromCollection(words)
  .keyBy((word) => word)
  .map((word, ctx) => ({ word, instance: ctx.instanceIndex }), { parallelism: 3 })
  .sink(KeyRouting);
await keyed.submit({ autostop: true });

console.log("Parallelism example finished");
