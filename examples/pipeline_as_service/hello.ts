/**
 * Pipeline as a service: the order pipeline (feature enrichment service -> risk scoring service
 * -> decision, see order_pipeline.ts) is served as the service "order_pipeline", and a driver
 * pipeline calls it for each order like any service, printing the decision it gets back. Autostop
 * ends both pipelines once the driver is done: no shutdown command is needed.
 * Port of SAGE's service/pipeline_as_service/hello_pipeline_as_service.py.
 */
import { LocalEnvironment, MapFunction, SinkFunction } from "sage";
import { serveOrderPipeline, type Decision, type Order, type OrderPipeline } from "./order_pipeline.js";

const ORDERS: Order[] = [
  { orderId: "o-1001", userId: "user-001", amount: 129.9 },
  { orderId: "o-1002", userId: "user-002", amount: 59.0 },
  { orderId: "o-1003", userId: "user-003", amount: 450.5 },
];

/** Calls the pipeline service for each order and waits for its decision. */
class InvokePipeline extends MapFunction<Order, { order: Order; decision: Decision }> {
  override async execute(order: Order): Promise<{ order: Order; decision: Decision }> {
    const decision = await this.service<OrderPipeline>("order_pipeline", { timeoutMs: 20_000 }).process(order);
    return { order, decision };
  }
}

/** Shows what the pipeline service answered. */
class DriverSink extends SinkFunction<{ order: Order; decision: Decision }> {
  override execute({ order, decision }: { order: Order; decision: Decision }): void {
    console.log(`[Driver] Order ${order.orderId} => decision=${decision.recommendation}, risk=${decision.riskScore}`);
  }
}

const env = new LocalEnvironment("pipeline_as_service_demo");
serveOrderPipeline(env);
env.fromBatch(ORDERS, { name: "Orders" }).map(InvokePipeline).sink(DriverSink);

await env.submit({ autostop: true });
console.log("Pipeline as a service example finished");
