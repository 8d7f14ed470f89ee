// sessionStorage by default: the token lives as long as the tab. "Remember" keeps it in
// localStorage for the next visit. Never in a URL: those end up in histories and server logs.
const KEY = "sage.jobmanager.token";

/** The token kept from an earlier login, if any. */
export function storedToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? undefined;
}

/** Keeps `token` for this tab, or also for later visits when `remember`. */
export function storeToken(token: string, remember: boolean): void {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(KEY, token);
}

/** Forgets the token everywhere it was kept (log out, or the server refused it). */
export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}
