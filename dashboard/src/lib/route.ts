import { useEffect, useState } from "preact/hooks";

/** The job list's filters and page, kept in the hash so a reload or a shared link keeps them. */
export interface ListFilter {
  /** A job state, "active" (created, running, finishing), or "" for all. */
  state: string;
  /** Part of a job's name or id. */
  query: string;
  /** 1 is the newest jobs. */
  page: number;
}

/** Where the dashboard is: the overview with the job list, or one job's page. */
export type Route = { name: "overview"; filter: ListFilter } | { name: "job"; id: string };

/** The route a location hash names (`#/`, `#/?state=running&q=rag&page=2`, `#/jobs/<id>`). */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "");
  const job = /^\/jobs\/([^/?]+)$/.exec(path);
  if (job) return { name: "job", id: safeDecode(job[1]!) };
  const params = new URLSearchParams(path.split("?")[1] ?? "");
  const page = Number(params.get("page") ?? 1);
  return { name: "overview", filter: { state: params.get("state") ?? "", query: params.get("q") ?? "", page: Number.isInteger(page) && page > 0 ? page : 1 } };
}

/** The hash of a route (the inverse of {@link parseRoute}). */
export function routeHash(route: Route): string {
  if (route.name === "job") return `#/jobs/${encodeURIComponent(route.id)}`;
  const params = new URLSearchParams();
  if (route.filter.state) params.set("state", route.filter.state);
  if (route.filter.query) params.set("q", route.filter.query);
  if (route.filter.page > 1) params.set("page", String(route.filter.page));
  const query = params.toString();
  return query ? `#/?${query}` : "#/";
}

/** The hash of a job's page. */
export function jobHash(id: string): string {
  return routeHash({ name: "job", id });
}

/** The current route, following the location hash (links, back and forward). */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}

/** Goes to `route`; `replace` keeps the history entry (a filter typed letter by letter is not a step back each). */
export function navigate(route: Route, replace = false): void {
  const hash = routeHash(route);
  if (location.hash === hash) return;
  if (replace) {
    history.replaceState(null, "", hash);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = hash;
  }
}

/**
 * Drops a token from the address bar, as older login links carried it (`#token=...`): it is never
 * read from there, and must not stay in the history.
 */
export function dropTokenFromUrl(): void {
  if (/(^#|[?&#])token=/.test(location.hash)) history.replaceState(null, "", `${location.pathname}#/`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
