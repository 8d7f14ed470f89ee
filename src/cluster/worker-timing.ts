// Apart from the registry, so that the CLI can show them without loading NATS.

/** How often a worker rewrites its entry by default. */
export const DEFAULT_BEAT_MS = 1000;
/** How long a worker counts as alive after its last beat by default. */
export const DEFAULT_LEASE_MS = 5000;
