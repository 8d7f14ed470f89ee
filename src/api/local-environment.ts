import { BaseEnvironment } from "./environment.js";
import type { EnvironmentConfig, Platform } from "./types.js";

/** Runs pipelines in this Node.js process: the embedded default, nothing to install. */
export class LocalEnvironment extends BaseEnvironment {
  constructor(name = "local_environment", config: EnvironmentConfig = {}) {
    super(name, config);
  }

  /** `distributed` when a service or operator is declared `remote: true`, else `local`. */
  get platform(): Platform {
    const remoteService = [...this.serviceFactories.values()].some((f) => f.remote);
    return remoteService || this.pipeline.some((t) => t.options.remote === true) ? "distributed" : "local";
  }
}
