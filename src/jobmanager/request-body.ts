import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-errors.js";

/**
 * Reads a request's JSON body, which must be an object: anything else (null, an array, a number,
 * a string) is a 400 saying what it was. An empty body reads as `{}` when `allowEmpty`.
 */
export async function readJsonObject(request: IncomingMessage, limit: number, allowEmpty = false): Promise<Record<string, unknown>> {
  const declared = Number(request.headers["content-length"] ?? NaN);
  if (declared > limit) {
    request.resume();
    throw new HttpError(413, "E_TOO_LARGE", `request body of ${declared} bytes exceeds the limit of ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      request.resume();
      throw new HttpError(413, "E_TOO_LARGE", `request body exceeds the limit of ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") {
    if (allowEmpty) return {};
    throw new HttpError(400, "E_BAD_REQUEST", "the request needs a JSON body");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, "E_BAD_JSON", `malformed JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(body)) throw new HttpError(400, "E_BAD_REQUEST", `the request body must be a JSON object, got ${describeJson(body)}`);
  return body;
}

/** Whether a parsed JSON value is an object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What kind of JSON value this is, for error messages: "null", "an array", "a number", ... */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
