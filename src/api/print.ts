import { inspect } from "node:util";

/** A sink function that writes each record to stdout: strings as they are, other values inspected. */
export function printSink(prefix?: string): (record: unknown) => void {
  return (record) => {
    const text = typeof record === "string" ? record : inspect(record, { depth: 6, breakLength: Infinity });
    process.stdout.write(prefix ? `${prefix} ${text}\n` : `${text}\n`);
  };
}
