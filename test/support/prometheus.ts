/** Prometheus text as the tests read it: parsed by a real parser, families by name. */
import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";

/** Parses a `/metrics` body into its metric families, keyed by name. */
export function parsePrometheus(text: string): Map<string, MetricFamily> {
  return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
}

/** One histogram series as the parser reads it: cumulative buckets by `le`, count and sum. */
export interface HistogramSeries {
  buckets: Record<string, string>;
  count?: string;
  sum?: string;
}

/**
 * The series of histogram `name` with exactly `labels` (besides `le`), parsed by the same parser.
 * It folds every series of a family into one and keeps count and sum only for unlabelled ones, so
 * the series' own lines are handed to it alone, its labels taken off once they were matched.
 */
export function parseHistogram(text: string, name: string, labels: Record<string, string>): HistogramSeries | undefined {
  const selector = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(",");
  const lines = text.split("\n");
  const own: string[] = lines.filter((line) => line.startsWith(`# HELP ${name} `) || line.startsWith(`# TYPE ${name} `));
  for (const line of lines) {
    for (const suffix of ["_bucket", "_sum", "_count"]) {
      const head = `${name}${suffix}{${selector}`;
      if (!line.startsWith(head)) continue;
      const rest = line.slice(head.length);
      if (rest.startsWith(",le=")) own.push(`${name}${suffix}{${rest.slice(1)}`);
      else if (rest.startsWith("} ")) own.push(`${name}${suffix}${rest.slice(1)}`);
    }
  }
  if (own.length <= 2) return undefined;
  // The parser drops a last line without its newline.
  const [family] = parsePrometheusTextFormat(`${own.join("\n")}\n`);
  return family?.type === "HISTOGRAM" ? (family.metrics[0] as HistogramSeries | undefined) : undefined;
}
