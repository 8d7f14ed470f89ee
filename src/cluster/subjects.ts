/**
 * The NATS names of a cluster: every subject, stream, bucket and consumer the distributed mode
 * uses is built here, so the layout is readable in one place.
 *
 * sage.worker.<worker>.ctl                     worker control (request/reply): start a job host, ...
 * sage.job.<job>.driver                        reports to the job's driver (instance ended, metrics, ...)
 * sage.job.<job>.host.<worker>                 the driver's requests to the job's host process on a worker
 * sage.job.<job>.beat                          the driver's lease heartbeat
 * sage.job.<job>.svc.<service>                 calls of one service (request/reply)
 * sage.job.<job>.lost                          a service instance was lost: callers re-send their calls
 * sage.job.<job>.data.<task>.<index>           batches into one task instance (JetStream stream per job)
 * sage.job.<job>.credit.<task>.<index>         the receiver's progress, back to its senders (core NATS)
 * sage.job.<job>.credit.<task>.<index>.ask     a waiting sender asks the receiver to report its progress again
 */

/** A name made safe as one subject token (and a stream or consumer name): [A-Za-z0-9_-] only. */
export function token(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, (ch) => `_${ch.codePointAt(0)!.toString(16)}_`);
}

/** KV bucket where workers keep their registry entries alive. */
export const WORKERS_BUCKET = "sage_workers";
/** Object store bucket of job bundles, by content hash. */
export const BUNDLES_BUCKET = "sage_bundles";

/** Subjects and names of one job. */
export const subjects = {
  workerControl: (worker: string) => `sage.worker.${token(worker)}.ctl`,
  driver: (jobId: string) => `sage.job.${jobId}.driver`,
  host: (jobId: string, worker: string) => `sage.job.${jobId}.host.${token(worker)}`,
  beat: (jobId: string) => `sage.job.${jobId}.beat`,
  service: (jobId: string, service: string) => `sage.job.${jobId}.svc.${token(service)}`,
  serviceLost: (jobId: string) => `sage.job.${jobId}.lost`,
  data: (jobId: string, task: string, index: number) => `sage.job.${jobId}.data.${token(task)}.${index}`,
  dataAll: (jobId: string) => `sage.job.${jobId}.data.>`,
  credit: (jobId: string, task: string, index: number) => `sage.job.${jobId}.credit.${token(task)}.${index}`,
  creditAsk: (jobId: string, task: string, index: number) => `sage.job.${jobId}.credit.${token(task)}.${index}.ask`,
  /** The JetStream stream holding a job's data channels. */
  stream: (jobId: string) => `SAGE_${token(jobId)}`,
  /** The durable consumer of one task instance's inbox. */
  consumer: (task: string, index: number) => `in_${token(task)}_${index}`,
};
