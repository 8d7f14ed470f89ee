/**
 * Filter: plain functions for every step, including a generator function as the source; only
 * the lines whose number is odd pass. Port of SAGE's hello_filter_world.py.
 */
import { LocalEnvironment } from "sage";

/** Yields "Hello, World! #1" to "#10". */
function* hello(): Generator<string> {
  for (let i = 1; i <= 10; i++) yield `Hello, World! #${i}`;
}

const env = new LocalEnvironment("hello_filter_world");
env
  .fromBatch(hello)
  .map((line) => line.toUpperCase())
  .filter((line) => Number(line.at(-1)) % 2 === 1) // by the last digit, as the original: #10 ends in 0
  .sink((line) => console.log(line));

await env.submit({ autostop: true });
console.log("Hello Filter World example finished");
