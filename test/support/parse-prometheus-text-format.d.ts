/** Types for parse-prometheus-text-format, which ships none: the parsed metric families. */
declare module "parse-prometheus-text-format" {
  /** One parsed metric family: counters and gauges carry `value`, histograms `buckets`. */
  export interface MetricFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }>;
  }
  /** Parses Prometheus text exposition into metric families. */
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
