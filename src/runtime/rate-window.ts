/** Cumulative values of one instance at one moment, as a rate window takes them. */
export interface RatePoint {
  /** When it was read (ms on the runtime's clock, see monotonicMs). */
  at: number;
  recordsIn: number;
  recordsOut: number;
  /** The task clock's own totals (ms): shares per second come from its elapsed time. */
  elapsedMs: number;
  idleMs: number;
  backPressuredMs: number;
  /** The task has ended: no share of time is its any more. */
  stopped?: boolean;
}

/** Rates over the window, per second. */
export interface Rates {
  recordsInPerSecond: number;
  recordsOutPerSecond: number;
  idleMsPerSecond: number;
  backPressuredMsPerSecond: number;
  busyMsPerSecond: number;
}

const NO_RATES: Rates = { recordsInPerSecond: 0, recordsOutPerSecond: 0, idleMsPerSecond: 0, backPressuredMsPerSecond: 0, busyMsPerSecond: 0 };

/**
 * Rates of one instance over the last few seconds, whoever asks and however often: readings are
 * kept at most every `stepMs`, and a rate is the change since the oldest reading inside `spanMs`
 * (or just before it). Ten status reads a second or one every five give the same answer.
 */
export class RateWindow {
  readonly #points: RatePoint[] = [];

  constructor(
    private readonly spanMs = 3000,
    private readonly stepMs = 200,
  ) {}

  /** Takes `point` and answers the rates up to it. */
  observe(point: RatePoint): Rates {
    const points = this.#points;
    const last = points.at(-1);
    if (last === undefined || point.at - last.at >= this.stepMs) points.push(point);
    // Keep one reading at or before the window's start, so the span is always covered.
    while (points.length > 2 && points[1]!.at <= point.at - this.spanMs) points.shift();
    const base = points[0]!;
    const seconds = (point.at - base.at) / 1000;
    if (seconds < 0.05) return NO_RATES;
    // Per second of the window: the task's own time, or the wall time if longer (a task that ended,
    // or reports of a remote one that came late), so a share never overstates.
    const elapsed = point.stopped ? 0 : Math.max(point.elapsedMs - base.elapsedMs, point.at - base.at);
    const share = (ms: number) => (elapsed > 0 ? clamp((ms / elapsed) * 1000) : 0);
    const idle = share(point.idleMs - base.idleMs);
    const backPressured = share(point.backPressuredMs - base.backPressuredMs);
    return {
      recordsInPerSecond: Math.max(0, (point.recordsIn - base.recordsIn) / seconds),
      recordsOutPerSecond: Math.max(0, (point.recordsOut - base.recordsOut) / seconds),
      idleMsPerSecond: idle,
      backPressuredMsPerSecond: backPressured,
      // A task can wait for input while its async results wait to go downstream: the two overlap.
      busyMsPerSecond: elapsed > 0 ? clamp(((point.elapsedMs - base.elapsedMs) / elapsed) * 1000 - idle - backPressured) : 0,
    };
  }
}

function clamp(msPerSecond: number): number {
  return Math.round(Math.min(1000, Math.max(0, msPerSecond)));
}
