/** A value per sample time; null where the job did not report it then (an operator that came later). */
export type Series = Array<number | null>;

/** One operator's numbers over time. */
export interface OperatorSeries {
  name: string;
  /** Records taken in per second over each sample's interval (from the recordsIn counter). */
  recordsInPerSecond: Series;
  /** Records emitted per second over each sample's interval (from the recordsOut counter). */
  recordsOutPerSecond: Series;
  /** Batches waiting in its inboxes, summed over instances. */
  backlog: Series;
  /** The busiest instance's ms per second working. */
  busyMsPerSecond: Series;
  /** The most backpressured instance's ms per second waiting to send. */
  backPressuredMsPerSecond: Series;
}

/** One service's numbers over time. */
export interface ServiceSeries {
  name: string;
  /** Calls per second over each sample's interval (from the calls counter). */
  callsPerSecond: Series;
  latencyP50Ms: Series;
  latencyP99Ms: Series;
}

/**
 * A job's numbers over its life, as `GET /api/jobs/:id/history` answers them: columns of one
 * shared time axis, so a chart takes them as they are. Bounded: when full, the older half is
 * merged pairwise, so old stretches get coarser while recent ones keep the sampling interval.
 */
export interface JobHistory {
  /** The sampling interval, ms. */
  intervalMs: number;
  /** Sample times, ms since the epoch, ascending. */
  t: number[];
  operators: OperatorSeries[];
  services: ServiceSeries[];
}
