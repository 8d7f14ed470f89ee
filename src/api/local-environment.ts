import { BaseEnvironment } from "./environment.js";
import type { EnvironmentConfig, Platform } from "./types.js";

/** Runs pipelines in this Node.js process: the embedded default, nothing to install. */
export class LocalEnvironment extends BaseEnvironment {
  constructor(name = "local_environment", config: EnvironmentConfig = {}) {
    super(name, config);
  }

  /** Always `local`. */
  get platform(): Platform {
    return "local";
  }
}
