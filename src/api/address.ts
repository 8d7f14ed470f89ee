import { PipelineDefinitionError } from "./errors.js";

/** Where a JobManager listens when nothing says otherwise. */
export const DEFAULT_HOST = "127.0.0.1";
/** The JobManager's default port. */
export const DEFAULT_PORT = 19001;

/** A JobManager's address: host and port. */
export interface JobManagerAddress {
  host: string;
  port: number;
}

/**
 * The JobManager address SAGE_ADDRESS names (`http://host:port`, like RAY_ADDRESS; the scheme and
 * the port may be left out), or undefined when it is unset. Explicit options beat it, it beats
 * the defaults. A value that is not an address is an error naming the variable.
 */
export function sageAddress(value: string | undefined = process.env.SAGE_ADDRESS): JobManagerAddress | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  const bad = (why: string) => new PipelineDefinitionError(`SAGE_ADDRESS='${value}' is not a JobManager address (${why}): expected http://host:port`);
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw bad("unparsable");
  }
  if (url.protocol !== "http:") throw bad(`scheme ${url.protocol.slice(0, -1)} is not supported`);
  if (url.pathname !== "/" || url.search || url.hash || url.username) throw bad("it has more than a host and a port");
  if (!url.hostname) throw bad("no host");
  // URL keeps IPv6 hosts in brackets; the client adds them back itself.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: url.port === "" ? DEFAULT_PORT : Number(url.port) };
}
