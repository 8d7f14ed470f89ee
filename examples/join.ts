/**
 * Join: users and orders keyed by user id meet in a JoinFunction that buffers each side per key
 * and emits a record whenever both sides of a key are known. Port of SAGE's hello_join_world.py;
 * the sources are named "Users" and "Orders" because the original hung when a source's name did
 * not start with "Source".
 */
import { JoinFunction, LocalEnvironment, SinkFunction } from "sage";

interface User {
  id: number;
  name: string;
}

interface Order {
  orderId: string;
  userId: number;
  item: string;
}

/** Buffers users and orders per id; tag 0 is the users input, tag 1 the orders input. */
class UserOrderJoin extends JoinFunction<User | Order, number, string> {
  readonly #users = new Map<number, User>();
  readonly #pending = new Map<number, Order[]>();

  override execute(payload: User | Order, id: number, tag: number): string[] {
    if (tag === 0) {
      const user = payload as User;
      this.#users.set(id, user);
      // orders that arrived before their user are released now
      const waiting = this.#pending.get(id) ?? [];
      this.#pending.delete(id);
      return waiting.map((order) => describe(user, order));
    }
    const order = payload as Order;
    const user = this.#users.get(id);
    if (user) return [describe(user, order)];
    this.#pending.set(id, [...(this.#pending.get(id) ?? []), order]);
    return [];
  }
}

function describe(user: User, order: Order): string {
  return `${order.orderId}: ${user.name} ordered ${order.item}`;
}

/** Collects the joined lines and prints them sorted: the two inputs interleave freely. */
class SortedPrintSink extends SinkFunction<string> {
  readonly #lines: string[] = [];

  override execute(line: string): void {
    this.#lines.push(line);
  }

  close(): void {
    for (const line of this.#lines.sort()) console.log(line);
  }
}

const users: User[] = [
  { id: 1, name: "alice" },
  { id: 2, name: "bob" },
  { id: 3, name: "carol" },
];
const orders: Order[] = [
  { orderId: "order-1", userId: 2, item: "a keyboard" },
  { orderId: "order-2", userId: 1, item: "a book" },
  { orderId: "order-3", userId: 3, item: "a lamp" },
  { orderId: "order-4", userId: 1, item: "a pen" },
  { orderId: "order-5", userId: 4, item: "a mystery box" }, // no such user: never joined
];

const env = new LocalEnvironment("hello_join_world");
const userStream = env.fromBatch(users, { name: "Users" }).keyBy((user) => user.id);
const orderStream = env.fromBatch(orders, { name: "Orders" }).keyBy((order) => order.userId);

userStream.connect(orderStream).join(UserOrderJoin).sink(SortedPrintSink);

await env.submit({ autostop: true });
console.log("Hello Join World example finished");
