import type { ReplySpec } from "../../api/pipeline-service.js";
import type { FunctionContext } from "../../api/types.js";
import type { RequestEndpoint } from "./request-endpoint.js";

/** The function a `replyTo(service)` sink runs: answers the request whose id the record carries. */
export function replyFunction(endpoint: RequestEndpoint, spec: ReplySpec): (record: unknown, ctx: FunctionContext) => void {
  const { service, answer } = spec;
  return (record, ctx) => {
    const id = record !== null && typeof record === "object" ? (record as { id?: unknown }).id : undefined;
    if (typeof id !== "string") {
      throw new TypeError(
        `replyTo('${service}') got a record without its request's id (${describe(record)}): keep the \`id\` of the ` +
          `request fromService('${service}') emitted, e.g. map((request) => ({ ...request, payload: next }))`,
      );
    }
    endpoint.answer(id, answer ? answer(record, ctx) : (record as { payload?: unknown }).payload);
  };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== "object") return `a ${typeof value}`;
  const keys = Object.keys(value).slice(0, 5);
  return keys.length > 0 ? `an object with ${keys.join(", ")}` : "an empty object";
}
