import { ServiceNotFoundError } from "../api/errors.js";
import type { ServiceHost } from "./service-host.js";
import type { CallOptions, ServiceTransport } from "./service-transport.js";

/** Reaches service instances living in this process. */
export class LocalServiceTransport implements ServiceTransport {
  readonly #hosts = new Map<string, ServiceHost>();

  /** Makes `host` reachable under its name. */
  add(host: ServiceHost): void {
    this.#hosts.set(host.name, host);
  }

  call(service: string, method: string, args: unknown[], options: CallOptions): unknown {
    return this.#host(service).call(method, args, options.timeoutMs);
  }

  proxy(service: string, options: CallOptions): Record<string, unknown> {
    return this.#host(service).createProxy(options.timeoutMs);
  }

  #host(service: string): ServiceHost {
    const host = this.#hosts.get(service);
    if (host === undefined) throw new ServiceNotFoundError(service, undefined, this.services());
    return host;
  }

  services(): readonly string[] {
    return [...this.#hosts.keys()];
  }
}
