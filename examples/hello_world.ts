/**
 * Hello World: a BatchFunction source, an upper-casing map and a printing sink, run to the end
 * with autostop. Port of SAGE's tutorials/hello_world.py.
 */
import { BatchFunction, LocalEnvironment, MapFunction, SinkFunction } from "sage";

/** Produces "Hello, World! #1" to "#10", then ends the batch. */
class HelloBatch extends BatchFunction<string> {
  #counter = 0;

  override execute(): string | null {
    if (this.#counter >= 10) return null; // null tells the runtime the batch is exhausted
    this.#counter++;
    return `Hello, World! #${this.#counter}`;
  }
}

/** Upper-cases each line. */
class UpperCaseMap extends MapFunction<string, string> {
  override execute(data: string): string {
    return data.toUpperCase();
  }
}

/** Prints each line. */
class PrintSink extends SinkFunction<string> {
  override execute(data: string): void {
    console.log(data);
  }
}

const env = new LocalEnvironment("hello_world");
env.fromBatch(HelloBatch).map(UpperCaseMap).sink(PrintSink);

// autostop: resolves once every record went through and the job was cleaned up
await env.submit({ autostop: true });
console.log("Hello World batch example finished");
