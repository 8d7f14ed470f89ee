/**
 * Future streams: a feedback loop. `fromFuture` declares a placeholder that is connected like any
 * stream and closed later with `fillFuture`; values below the target go around again. The job
 * still ends by itself: once the seeds are exhausted and nothing is left in the loop, autostop
 * resolves. Port of SAGE's hello_future_stream_example.py (which needed a sleep and a stop).
 */
import { CoMapFunction, LocalEnvironment } from "sage";

const TARGET = 5;

/** Tells seeds from values that came back around the loop. */
class CounterProcessor extends CoMapFunction<number> {
  override map0(seed: number): number {
    console.log(`seed: ${seed}`);
    return seed;
  }

  override map1(value: number): number {
    console.log(`feedback: ${value}`);
    return value;
  }
}

const env = new LocalEnvironment("future_stream");
const feedback = env.fromFuture<number>("counter_feedback");

const counted = env
  .fromBatch([0], { name: "Seeds" })
  .connect(feedback)
  .coMap(CounterProcessor)
  .map((n) => n + 1);

counted.sink((n) => console.log(n < TARGET ? `count: ${n}` : `count: ${n}, target reached`));
counted.filter((n) => n < TARGET).fillFuture(feedback);

await env.submit({ autostop: true });
console.log("Future Stream example finished");
