/**
 * Asynchronous clients of a pipeline served as a service: a burst of orders is sent to the order
 * pipeline at once (the driver keeps 4 calls in flight), and a slow feature store makes each
 * lookup take its order's `latency`. The pipeline enriches 4 orders at once, so the burst takes
 * about as long as its slowest order, not the sum; answers still come back in order.
 * Port of SAGE's service/pipeline_as_service/async_client_pipeline_as_service.py, where
 * `call_service_async` returns futures; here each call returns a Promise.
 */
import { LocalEnvironment, MapFunction, SinkFunction } from "sage";
import { FeatureStoreService, serveOrderPipeline, type Decision, type Features, type Order, type OrderPipeline } from "./order_pipeline.js";

const ASYNC_ORDERS: Order[] = [
  { orderId: "async-1001", userId: "user-101", amount: 210.5, latency: 0.6 },
  { orderId: "async-1002", userId: "user-102", amount: 35.0, latency: 0.2 },
  { orderId: "async-1003", userId: "user-103", amount: 990.0, latency: 0.9 },
  { orderId: "async-1004", userId: "user-104", amount: 440.0, latency: 0.4 },
];
const TOTAL_LATENCY = ASYNC_ORDERS.reduce((sum, order) => sum + (order.latency ?? 0), 0);

/** A feature store that takes the order's latency to answer, to make the concurrency visible. */
class SlowFeatureStoreService extends FeatureStoreService {
  override async process(order: Order): Promise<Features> {
    await new Promise((resolve) => setTimeout(resolve, (order.latency ?? 0) * 1000));
    return super.process(order);
  }
}

/** Sends an order to the pipeline service; with `concurrency: 4`, four calls are in flight at once. */
class AsyncSubmit extends MapFunction<Order, { order: Order; decision: Decision }> {
  override async execute(order: Order): Promise<{ order: Order; decision: Decision }> {
    return { order, decision: await this.service<OrderPipeline>("order_pipeline", { timeoutMs: 20_000 }).process(order) };
  }
}

/** Prints each decision with the order's latency, and whether the burst overlapped. */
class AsyncResultSink extends SinkFunction<{ order: Order; decision: Decision }> {
  #started = 0;

  open(): void {
    this.#started = performance.now();
  }

  override execute({ order, decision }: { order: Order; decision: Decision }): void {
    console.log(`[Async Driver] Order ${order.orderId} (latency=${order.latency}s)\n    => decision=${decision.recommendation}, risk=${decision.riskScore}`);
  }

  close(): void {
    const seconds = (performance.now() - this.#started) / 1000;
    console.log(`[Async Driver] ${ASYNC_ORDERS.length} decisions in less than the sum of the latencies (${TOTAL_LATENCY.toFixed(1)}s): ${seconds < TOTAL_LATENCY}`);
  }
}

const env = new LocalEnvironment("pipeline_as_service_async");
serveOrderPipeline(env, { featureStore: SlowFeatureStoreService, concurrency: 4 });
env.fromBatch(ASYNC_ORDERS, { name: "AsyncOrders" }).map(AsyncSubmit, { concurrency: 4 }).sink(AsyncResultSink);

await env.submit({ autostop: true });
console.log("Async client example finished");
