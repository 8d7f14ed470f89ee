/**
 * Several clients of one pipeline served as a service: two driver pipelines (new users and
 * returning users) call the same order pipeline concurrently. Their calls interleave, so the
 * drivers meet in one sink that prints the decisions sorted by segment and order once both are
 * done, and the order pipeline prints a summary when it ends (after its last caller).
 * Port of SAGE's service/pipeline_as_service/multi_client_pipeline_as_service.py.
 */
import { BatchFunction, LocalEnvironment, MapFunction, SinkFunction } from "sage";
import { serveOrderPipeline, type Decision, type Order, type OrderPipeline } from "./order_pipeline.js";

const NEW_USER_ORDERS: Order[] = [
  { orderId: "multi-new-001", userId: "user-new-01", amount: 29.99 },
  { orderId: "multi-new-002", userId: "user-new-02", amount: 59.0 },
];

const RETURNING_USER_ORDERS: Order[] = [
  { orderId: "multi-ret-001", userId: "user-ret-01", amount: 330.0 },
  { orderId: "multi-ret-002", userId: "user-ret-02", amount: 87.5 },
];

/** Emits its orders tagged with the driver's segment. */
class SegmentedOrderSource extends BatchFunction<Order> {
  #index = 0;

  constructor(
    private readonly orders: Order[],
    private readonly segment: string,
  ) {
    super();
  }

  override execute(): Order | undefined {
    const order = this.orders[this.#index++];
    return order && { ...order, segment: this.segment };
  }
}

/** Calls the pipeline service for one order. */
class InvokePipeline extends MapFunction<Order, { order: Order; decision: Decision }> {
  override async execute(order: Order): Promise<{ order: Order; decision: Decision }> {
    return { order, decision: await this.service<OrderPipeline>("order_pipeline", { timeoutMs: 20_000 }).process(order) };
  }
}

/** Collects both drivers' results and prints them grouped by segment once both are done. */
class SegmentedDriverSink extends SinkFunction<{ order: Order; decision: Decision }> {
  readonly #lines: string[] = [];

  override execute({ order, decision }: { order: Order; decision: Decision }): void {
    this.#lines.push(`[Multi Driver] segment=${order.segment} order=${order.orderId} => recommendation=${decision.recommendation} risk=${decision.riskScore}`);
  }

  close(): void {
    for (const line of this.#lines.sort()) console.log(line);
  }
}

const env = new LocalEnvironment("pipeline_as_service_multi_client");
serveOrderPipeline(env, { printEach: false });
const newUsers = env.fromBatch(SegmentedOrderSource, { name: "NewUsers", args: [NEW_USER_ORDERS, "new_users"] }).map(InvokePipeline);
const returningUsers = env.fromBatch(SegmentedOrderSource, { name: "ReturningUsers", args: [RETURNING_USER_ORDERS, "returning_users"] }).map(InvokePipeline);
newUsers.connect(returningUsers).sink(SegmentedDriverSink);

await env.submit({ autostop: true });
console.log("Multi client example finished");
