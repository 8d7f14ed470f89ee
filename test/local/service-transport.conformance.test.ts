import { LocalServiceTransport } from "../../src/runtime/local-service-transport.js";
import type { ServiceHost } from "../../src/runtime/service-host.js";
import { startServiceHost } from "../support/service-hosts.js";
import { runServiceTransportSuite } from "../conformance/service-transport-suite.js";

runServiceTransportSuite("in-process service transport", async (factories) => {
  const transport = new LocalServiceTransport();
  const hosts: ServiceHost[] = [];
  for (const factory of factories) {
    const host = await startServiceHost(factory);
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
