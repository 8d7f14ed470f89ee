/** Prometheus text as the tests read it: parsed by a real parser, families by name. */
import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";

/** Parses a `/metrics` body into its metric families, keyed by name. */
export function parsePrometheus(text: string): Map<string, MetricFamily> {
  return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
}
