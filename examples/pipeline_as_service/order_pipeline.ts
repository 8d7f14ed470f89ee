/**
 * The order pipeline the pipeline-as-a-service examples share, served as the service
 * "order_pipeline": each request (an order) is enriched with the user's features from the
 * feature store service, scored by the risk scoring service, and answered with a decision.
 * In the original (hello_pipeline_as_service.py) a queue bridge, a polling source and a
 * "shutdown" command connect the two pipelines; here `env.fromService()` and `replyTo()` do, and
 * autostop ends everything once the callers are done. The risk score has no random jitter and
 * no timestamps, so the output is the same on every run. The stages log what they do at debug
 * level (SAGE_LOG_LEVEL=debug shows it).
 */
import { BaseService, MapFunction, replyTo, type BaseEnvironment, type PipelineService, type ServiceRequest } from "sage";

/** An order as the drivers send it. */
export interface Order {
  orderId: string;
  userId: string;
  amount: number;
  /** How long the slow feature store takes for it, in seconds (async_client.ts). */
  latency?: number;
  /** The driver's customer segment (multi_client.ts). */
  segment?: string;
}

/** What the feature store knows of a user, for one order. */
export interface Features {
  successfulOrders: number;
  chargebackRatio: number;
  orderAmount: number;
}

/** The risk scoring service's verdict. */
export interface Scoring {
  riskScore: number;
  recommendation: "manual_review" | "auto_approve";
}

/** The pipeline's answer to one order. */
export interface Decision {
  orderId: string;
  recommendation: Scoring["recommendation"];
  riskScore: number;
  features: Features;
}

/** What callers see: `ctx.service<OrderPipeline>("order_pipeline").process(order)`. */
export type OrderPipeline = PipelineService<Order, Decision>;

type Enriched = Order & { features: Features };
type Scored = Enriched & { scoring: Scoring };

/** Per-user aggregates; unknown users get a cautious default. */
export class FeatureStoreService extends BaseService {
  readonly #users = new Map<string, Omit<Features, "orderAmount">>([
    ["user-001", { successfulOrders: 5, chargebackRatio: 0.01 }],
    ["user-002", { successfulOrders: 2, chargebackRatio: 0.08 }],
    ["user-003", { successfulOrders: 12, chargebackRatio: 0.0 }],
  ]);

  process(order: Order): Features | Promise<Features> {
    const known = this.#users.get(order.userId) ?? { successfulOrders: 0, chargebackRatio: 0.5 };
    return { ...known, orderAmount: order.amount };
  }
}

/** A simple linear risk score: chargebacks and large amounts raise it, a long history lowers it. */
export class RiskScoringService extends BaseService {
  process(order: Enriched): Scoring {
    const { chargebackRatio, successfulOrders } = order.features;
    const base = 0.4 * chargebackRatio + 0.0005 * order.amount;
    const history = successfulOrders > 5 ? 0.2 : 0;
    const risk = Math.min(Math.max(base - history, 0), 1);
    return { riskScore: Math.round(risk * 1000) / 1000, recommendation: risk > 0.4 ? "manual_review" : "auto_approve" };
  }
}

/** Looks the order's user up in the feature store, by service and method name. */
export class FeatureEnrichment extends MapFunction<ServiceRequest<Order>, ServiceRequest<Enriched>> {
  override async execute(request: ServiceRequest<Order>): Promise<ServiceRequest<Enriched>> {
    const order = request.payload;
    const features = await this.callService<Features>("feature_store", "process", order);
    this.logger.debug(`Enriched order ${order.orderId} with feature keys [${Object.keys(features).sort().join(", ")}]`);
    // The request's id travels with the record: replyTo() answers the caller by it.
    return { ...request, payload: { ...order, features } };
  }
}

/** Scores the enriched order through the typed proxy of the risk scoring service. */
export class RiskScoring extends MapFunction<ServiceRequest<Enriched>, ServiceRequest<Scored>> {
  override async execute(request: ServiceRequest<Enriched>): Promise<ServiceRequest<Scored>> {
    const scoring = await this.service<RiskScoringService>("risk_scoring").process(request.payload);
    this.logger.debug(`Scored order ${request.payload.orderId} with risk ${scoring.riskScore.toFixed(3)}`);
    return { ...request, payload: { ...request.payload, scoring } };
  }
}

/** Turns the scored order into the answer; prints each decision, or (`printEach` false) a summary at the end. */
export class Decide extends MapFunction<ServiceRequest<Scored>, ServiceRequest<Decision>> {
  readonly #counts = new Map<string, number>();

  constructor(private readonly printEach = true) {
    super();
  }

  override execute(request: ServiceRequest<Scored>): ServiceRequest<Decision> {
    const { orderId, features, scoring } = request.payload;
    if (this.printEach) console.log(`[Pipeline] Order ${orderId} => decision=${scoring.recommendation}, risk=${scoring.riskScore}`);
    this.#counts.set(scoring.recommendation, (this.#counts.get(scoring.recommendation) ?? 0) + 1);
    return { ...request, payload: { orderId, recommendation: scoring.recommendation, riskScore: scoring.riskScore, features } };
  }

  close(): void {
    if (this.printEach) return;
    const total = [...this.#counts.values()].reduce((a, b) => a + b, 0);
    const counts = [...this.#counts].sort(([a], [b]) => a.localeCompare(b)).map(([kind, n]) => `${kind}=${n}`);
    console.log(`[Pipeline] Decided ${total} orders: ${counts.join(", ")}`);
  }
}

/** Options of {@link serveOrderPipeline}. */
export interface OrderPipelineOptions {
  /** The feature store's class (async_client.ts passes a slow one). */
  featureStore?: typeof FeatureStoreService;
  /** Orders enriched at once (and feature store calls handled at once). */
  concurrency?: number;
  /** Print each decision as it is made (default), or a summary when the pipeline ends. */
  printEach?: boolean;
}

/** Registers the supporting services and declares the pipeline served as "order_pipeline". */
export function serveOrderPipeline(env: BaseEnvironment, options: OrderPipelineOptions = {}): void {
  const concurrency = options.concurrency ?? 1;
  env.registerService("feature_store", options.featureStore ?? FeatureStoreService, { maxConcurrency: concurrency });
  env.registerService("risk_scoring", RiskScoringService);
  env
    .fromService<Order>("order_pipeline")
    .map(FeatureEnrichment, { concurrency })
    .map(RiskScoring)
    .map(Decide, { args: [options.printEach ?? true] })
    .sink(replyTo("order_pipeline"));
}
