/**
 * The behaviour every ServiceTransport must have, in-process or remote. Call
 * `runServiceTransportSuite` with a factory that hosts the given services and returns the
 * transport (and a way to close it).
 */
import { describe, expect, it } from "vitest";
import { BaseService, ServiceCallError, ServiceCallTimeoutError, ServiceNotFoundError, ServiceFactory } from "../../src/index.js";
import type { ServiceTransport } from "../../src/runtime/service-transport.js";

/** Hosts `factories` and answers the transport that reaches them. */
export type ServiceTransportFactory = (factories: ServiceFactory[]) => Promise<{ transport: ServiceTransport; close(): Promise<void> }>;

/** A service with sync, async, failing and slow methods. */
export class Calculator extends BaseService {
  add(a: number, b: number) {
    return a + b;
  }
  async addLater(a: number, b: number) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return a + b;
  }
  divide(a: number, b: number) {
    if (b === 0) throw new Error("division by zero");
    return a / b;
  }
  async slow() {
    await new Promise((resolve) => setTimeout(resolve, 500));
    return "late";
  }
}

/** Registers the shared service transport tests under `name`. */
export function runServiceTransportSuite(name: string, create: ServiceTransportFactory): void {
  describe(`${name} - service transport conformance`, () => {
    async function withCalculator(test: (transport: ServiceTransport) => Promise<void>): Promise<void> {
      const { transport, close } = await create([new ServiceFactory("calc", Calculator)]);
      try {
        await test(transport);
      } finally {
        await close();
      }
    }

    it("lists its services and answers calls by name and through proxies", async () => {
      await withCalculator(async (transport) => {
        expect(transport.services()).toContain("calc");
        expect(await transport.call("calc", "add", [2, 3], { timeoutMs: 1000 })).toBe(5);
        const proxy = transport.proxy("calc", { timeoutMs: 1000 }) as unknown as Calculator;
        expect(await proxy.addLater(4, 5)).toBe(9);
      });
    });

    it("names an unknown service and an unknown method", async () => {
      await withCalculator(async (transport) => {
        // Thrown at once in-process, a rejection from a remote transport: both are accepted.
        const unknownService = await Promise.resolve()
          .then(() => transport.call("nope", "add", [], { timeoutMs: 1000 }))
          .catch((error: unknown) => error);
        expect(unknownService).toBeInstanceOf(ServiceNotFoundError);
        const unknownMethod = await Promise.resolve()
          .then(() => transport.call("calc", "multiply", [1, 2], { timeoutMs: 1000 }))
          .catch((error: unknown) => error);
        expect(unknownMethod).toBeInstanceOf(ServiceNotFoundError);
        expect((unknownMethod as Error).message).toContain("'multiply'");
      });
    });

    it("reports a method's error with the service and method names", async () => {
      await withCalculator(async (transport) => {
        const error = await Promise.resolve()
          .then(() => transport.call("calc", "divide", [1, 0], { timeoutMs: 1000 }))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ServiceCallError);
        expect((error as Error).message).toBe("calc.divide() failed: division by zero");
      });
    });

    it("times a call out with ServiceCallTimeoutError", async () => {
      await withCalculator(async (transport) => {
        const error = await Promise.resolve(transport.call("calc", "slow", [], { timeoutMs: 30 })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ServiceCallTimeoutError);
      });
    });
  });
}
