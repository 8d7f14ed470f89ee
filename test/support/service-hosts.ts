/** ServiceHosts set up outside any job, for the service transport tests. */
import { createLogger } from "../../src/api/logger.js";
import type { ServiceFactory } from "../../src/api/service.js";
import { ServiceHost } from "../../src/runtime/service-host.js";

/** A ServiceHost of `factory` whose setup() has finished. */
export async function startServiceHost(factory: ServiceFactory, jobId = "test"): Promise<ServiceHost> {
  const ctx = {
    name: factory.name,
    jobId,
    logger: createLogger(factory.name, "silent"),
    signal: new AbortController().signal,
    service: () => {
      throw new Error("not used");
    },
    callService: () => {
      throw new Error("not used");
    },
  };
  const host = new ServiceHost(factory, ctx);
  await host.setup(1000);
  return host;
}
