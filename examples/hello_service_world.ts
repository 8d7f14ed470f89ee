/**
 * Hello Service World: a registered service with setup()/cleanup() hooks, called from a map
 * (by name, with callService) and from a sink (through a typed proxy). As in the original, the
 * service itself prints.
 * Port of SAGE's service-api/hello_service_world.py.
 */
import { BaseService, LocalEnvironment, MapFunction, SinkFunction } from "sage";

/** Greets by name and announces greetings; handles one call at a time, like an actor. */
class HelloService extends BaseService {
  #greetings = 0;

  setup(): void {
    console.log("hello_service: setup");
  }

  hello(name: string): string {
    this.#greetings++;
    return `Hello, ${name}!`;
  }

  announce(greeting: string): void {
    console.log(`hello_service says: ${greeting}`);
  }

  cleanup(): void {
    console.log(`hello_service: cleanup after ${this.#greetings} greetings`);
  }
}

/** Asks the service for a greeting, by service and method name. */
class Greet extends MapFunction<string, string> {
  override execute(name: string): string | Promise<string> {
    return this.callService<string>("hello_service", "hello", name);
  }
}

/** Has the service announce each greeting, through the typed proxy. */
class AnnounceSink extends SinkFunction<string> {
  override async execute(greeting: string): Promise<void> {
    // `await` is right whether the proxy answers directly (idle local service) or with a Promise
    await this.service<HelloService>("hello_service").announce(greeting);
  }
}

const env = new LocalEnvironment("hello_service_world");
env.registerService("hello_service", HelloService);

const names = Array.from({ length: 10 }, (_, i) => `World #${i + 1}`);
env.fromBatch(names).map(Greet).sink(AnnounceSink);

// autostop also waits for the service's cleanup(), so its line prints before ours
await env.submit({ autostop: true });
console.log("Hello Service World example finished");
