/**
 * CoMap: two sources connected into one operator, where input 0 goes to map0 and input 1 to
 * map1. Port of SAGE's hello_comap_world.py.
 */
import { BatchFunction, CoMapFunction, LocalEnvironment, SinkFunction } from "sage";

/** Counts from 1 to 5, wrapping each number with `format`. */
class Counter extends BatchFunction<{ msg: string }> {
  #counter = 0;

  constructor(private readonly format: (n: number) => string) {
    super();
  }

  override execute(): { msg: string } | null {
    if (this.#counter >= 5) return null;
    this.#counter++;
    return { msg: this.format(this.#counter) };
  }
}

/** Tags each record with the input it came from. */
class HelloCoMap extends CoMapFunction<string> {
  override map0(data: { msg: string }): string {
    return `[Stream0] ${data.msg}`;
  }

  override map1(data: { msg: string }): string {
    return `[Stream1] ${data.msg}`;
  }
}

/** Collects the lines and prints them sorted at the end: the two inputs interleave freely. */
class SortedPrintSink extends SinkFunction<string> {
  readonly #lines: string[] = [];

  override execute(line: string): void {
    this.#lines.push(line);
  }

  close(): void {
    for (const line of this.#lines.sort()) console.log(line);
  }
}

const env = new LocalEnvironment("hello_comap_world");
const hello = env.fromBatch(Counter, { name: "Hello", args: [(n: number) => `No.${n}: Hello`] });
const world = env.fromBatch(Counter, { name: "World", args: [(n: number) => `World! #${n}`] });

hello.connect(world).coMap(HelloCoMap).sink(SortedPrintSink);

await env.submit({ autostop: true });
console.log("Hello CoMap World example finished");
