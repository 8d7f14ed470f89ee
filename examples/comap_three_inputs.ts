/**
 * CoMap over three inputs: input i goes to map<i>. The third source is longer than the others,
 * and every one of its records still arrives (the original lost data on unequal lengths).
 * Port of SAGE's hello_three_input_comap.py.
 */
import { BatchFunction, CoMapFunction, LocalEnvironment, SinkFunction } from "sage";

/** Emits the items it was constructed with, then ends the batch. */
class SimpleDataSource extends BatchFunction<string> {
  #index = 0;

  constructor(private readonly items: string[]) {
    super();
  }

  override execute(): string | undefined {
    return this.items[this.#index++];
  }
}

/** One method per input. */
class ThreeStreamCoMap extends CoMapFunction<string> {
  override map0(fruit: string): string {
    return `Stream-0 (fruit): ${fruit}`;
  }

  override map1(animal: string): string {
    return `Stream-1 (animal): ${animal}`;
  }

  map2(color: string): string {
    return `Stream-2 (color): ${color}`;
  }
}

/** Collects the lines and prints them sorted at the end: the inputs interleave freely. */
class SortedPrintSink extends SinkFunction<string> {
  readonly #lines: string[] = [];

  override execute(line: string): void {
    this.#lines.push(line);
  }

  close(): void {
    for (const line of this.#lines.sort()) console.log(line);
    console.log(`${this.#lines.length} records received`);
  }
}

const env = new LocalEnvironment("three_input_comap");
const fruits = env.fromBatch(SimpleDataSource, { name: "Fruits", args: [["Apple", "Banana"]] });
const animals = env.fromBatch(SimpleDataSource, { name: "Animals", args: [["Cat", "Dog"]] });
const colors = env.fromBatch(SimpleDataSource, { name: "Colors", args: [["Blue", "Green", "Red", "Yellow"]] });

fruits.connect(animals).connect(colors).coMap(ThreeStreamCoMap).sink(SortedPrintSink);

await env.submit({ autostop: true });
console.log("Three Input CoMap example finished");
