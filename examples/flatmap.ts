/**
 * FlatMap: one record in, any number out. Each upper-cased sentence becomes one record per
 * word. Port of SAGE's hello_flatmap_world.py.
 */
import { LocalEnvironment } from "sage";

const sentences = ["Hello, World! #1", "Hello, World! #2", "Hello, World! #3"];

const env = new LocalEnvironment("hello_flatmap_world");
env
  .fromBatch(sentences)
  .map((sentence) => sentence.toUpperCase())
  .flatMap((sentence) => sentence.split(" ")) // an array is emitted element by element
  .sink((word) => console.log(word));

await env.submit({ autostop: true });
console.log("Hello FlatMap World example finished");
