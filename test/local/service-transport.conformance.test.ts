import { LocalServiceTransport } from "../../src/runtime/local-service-transport.js";
import { ServiceHost } from "../../src/runtime/service-host.js";
import { createLogger } from "../../src/api/logger.js";
import { runServiceTransportSuite } from "../conformance/service-transport-suite.js";

runServiceTransportSuite("in-process service transport", async (factories) => {
  const transport = new LocalServiceTransport();
  const hosts: ServiceHost[] = [];
  for (const factory of factories) {
    const ctx = {
      name: factory.name,
      jobId: "test",
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
    transport.add(host);
    hosts.push(host);
  }
  return {
    transport,
    close: async () => {
      for (const host of hosts) await host.cleanup(1000);
    },
  };
});
