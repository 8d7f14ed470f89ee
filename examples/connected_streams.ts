/**
 * Connected streams: one number source fans out into four filter + map branches, which are
 * connected again and handled by one final step and a sink named "FinalSink".
 * Port of SAGE's hello_connected_stream_example.py, bounded so that it ends by itself.
 */
import { END_OF_STREAM, LocalEnvironment, SinkFunction, SourceFunction, type EndOfStream } from "sage";

type Tagged = [tag: string, n: number];

/** Counts 1 to 10, then ends its stream (an unbounded source ends only when it says so). */
class NumberSource extends SourceFunction<number> {
  #counter = 0;

  override execute(): number | EndOfStream {
    return this.#counter < 10 ? ++this.#counter : END_OF_STREAM;
  }
}

/** Collects what arrives and prints it in a stable order: the branches interleave freely. */
class StatsSink extends SinkFunction<string> {
  readonly #received: string[] = [];

  override execute(data: string): void {
    this.#received.push(data);
  }

  close(): void {
    for (const data of this.#received.sort(byTagThenNumber)) console.log(`[${this.ctx.name}] Received: ${data}`);
  }
}

function byTagThenNumber(a: string, b: string): number {
  const [tagA, nA] = a.split(" -> ");
  const [tagB, nB] = b.split(" -> ");
  return tagA!.localeCompare(tagB!) || Number(nA) - Number(nB);
}

const env = new LocalEnvironment("connected_streams");
const numbers = env.fromSource(NumberSource);

const even = numbers.filter((n) => n % 2 === 0).map((n): Tagged => ["EVEN", n]);
const odd = numbers.filter((n) => n % 2 === 1).map((n): Tagged => ["ODD", n]);
const multipleOf3 = numbers.filter((n) => n % 3 === 0).map((n): Tagged => ["MULTIPLE_3", n]);
const large = numbers.filter((n) => n > 5).map((n): Tagged => ["LARGE", n]);

const format = ([tag, n]: Tagged): string => `Processed: ${tag} -> ${n}`;
// One function for every input merges the branches again.
even
  .connect(odd)
  .connect(multipleOf3)
  .connect(large)
  .map(format)
  .sink(StatsSink, { name: "FinalSink" });

await env.submit({ autostop: true });
console.log("Connected Streams example finished");
