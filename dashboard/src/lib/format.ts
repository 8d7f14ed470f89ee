/** `1,234`; a dash for what is missing. */
export function count(value: number | undefined | null): string {
  return isNumber(value) ? Math.round(value).toLocaleString("en-US") : "–";
}

/** A rate or level with the precision that helps reading it: `0.42`, `12.5`, `1,234`. */
export function decimal(value: number | undefined | null): string {
  if (!isNumber(value)) return "–";
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString("en-US");
  if (abs >= 10) return value.toFixed(1);
  return value === 0 ? "0" : value.toFixed(2);
}

/** A duration: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`, `3 d 4 h`. */
export function duration(ms: number | undefined | null): string {
  if (!isNumber(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** A latency in ms: `0.8 ms`, `12 ms`, `1.5 s`. */
export function latency(ms: number | undefined | null): string {
  if (!isNumber(ms)) return "–";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** An ISO time as local date and time (`2026-01-31 14:05:09`); a dash when absent or unreadable. */
export function time(iso: string | undefined): string {
  const at = iso === undefined ? NaN : Date.parse(iso);
  if (!Number.isFinite(at)) return "–";
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** How long ago an ISO time was: `12 s ago`. */
export function ago(iso: string | undefined, now = Date.now()): string {
  const at = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(at) ? `${duration(Math.max(0, now - at))} ago` : "";
}

/** A share 0..1 as a percentage: `42%`. */
export function percent(share: number | undefined | null): string {
  return isNumber(share) ? `${Math.round(share * 100)}%` : "–";
}

/** The first 8 characters of a job id, as the CLI shows it. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Whether `value` is a finite number (a job reports its own status: any field may be anything). */
export function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}
