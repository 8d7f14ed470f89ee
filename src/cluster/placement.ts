import type { Placement, WorkerEntry } from "./protocol.js";

/** Where each remote instance of a job goes: worker name → its instances. */
export type PlacementPlan = Map<string, Placement[]>;

/** A short label of an instance, for messages. */
export function describePlacement(p: Placement): string {
  return p.kind === "service" ? `service '${p.service}'` : `${p.task}#${p.index}`;
}

/**
 * Spreads instances over workers with free slots: each goes to the worker with the most free
 * slots left (then the one given the fewest so far, then by name), so parallel instances of one
 * operator land on different workers while there are several. Throws when the slots do not suffice.
 */
export function placeInstances(instances: readonly Placement[], workers: readonly WorkerEntry[], avoid: ReadonlySet<string> = new Set()): PlacementPlan {
  const candidates = workers.filter((w) => !avoid.has(w.name));
  const free = new Map(candidates.map((w) => [w.name, Math.max(0, w.slots - w.used)]));
  const given = new Map(candidates.map((w) => [w.name, 0]));
  const totalFree = [...free.values()].reduce((a, b) => a + b, 0);
  if (instances.length > totalFree) {
    const shown = candidates.map((w) => `${w.name} ${w.used}/${w.slots} used`).join(", ") || "none";
    throw new Error(
      `the job's remote parts need ${instances.length} slot(s) but the cluster's workers have ${totalFree} free (workers: ${shown}); ` +
        "start more workers (sage worker start --cluster ...) or give them more --slots",
    );
  }
  const plan: PlacementPlan = new Map();
  for (const instance of instances) {
    let best: string | undefined;
    for (const w of candidates) {
      const name = w.name;
      if (free.get(name)! <= 0) continue;
      if (best === undefined) {
        best = name;
        continue;
      }
      const byFree = free.get(name)! - free.get(best)!;
      const byGiven = given.get(best)! - given.get(name)!;
      if (byFree > 0 || (byFree === 0 && (byGiven > 0 || (byGiven === 0 && name < best)))) best = name;
    }
    free.set(best!, free.get(best!)! - 1);
    given.set(best!, given.get(best!)! + 1);
    const list = plan.get(best!) ?? [];
    list.push(instance);
    plan.set(best!, list);
  }
  return plan;
}
