import { useEffect, useMemo, useState } from "preact/hooks";
import { Header } from "./components/header.js";
import { JobPage } from "./components/job-page.js";
import { Login } from "./components/login.js";
import { OverviewPage } from "./components/overview-page.js";
import { ApiClient } from "./lib/api.js";
import { dropTokenFromUrl, useRoute } from "./lib/route.js";
import { forgetToken, storedToken, storeToken } from "./lib/token.js";
import type { ServerInfo } from "./lib/types.js";

/** Who is logged in: the token and what the server said about itself on login. */
interface Session {
  token: string;
  info: ServerInfo;
}

/** The dashboard: the login alone until a token is accepted, then the overview or a job's page. */
export function App() {
  const [session, setSession] = useState<Session | undefined>(undefined);
  // A token kept from before is checked first; the login shows only if there is none or it fails.
  const [checking, setChecking] = useState(() => storedToken() !== undefined);
  const [loginMessage, setLoginMessage] = useState<string | undefined>(undefined);
  const route = useRoute();

  useEffect(() => {
    dropTokenFromUrl();
    const token = storedToken();
    if (token === undefined) return;
    new ApiClient(token)
      .info()
      .then((info) => setSession({ token, info }))
      .catch((error: Error & { status?: number }) => {
        if (error.status === 401) forgetToken();
        setLoginMessage(error.status === 401 ? "The kept token is no longer accepted: log in again." : error.message);
      })
      .finally(() => setChecking(false));
  }, []);

  const logout = (message?: string) => {
    forgetToken();
    setSession(undefined);
    setLoginMessage(message);
  };

  const api = useMemo(() => session && new ApiClient(session.token, () => logout("The JobManager refused the token: log in again.")), [session?.token]);

  if (checking) return <p class="loading">Connecting…</p>;
  if (!session || !api) {
    return (
      <Login
        message={loginMessage}
        onLogin={async (token, remember) => {
          const info = await new ApiClient(token).info();
          storeToken(token, remember);
          setLoginMessage(undefined);
          setSession({ token, info });
        }}
      />
    );
  }
  // A job page is built afresh for each job (keyed by id): nothing of the last job shows under the next one's id.
  return (
    <div class="app">
      <Header info={session.info} onLogout={() => logout()} />
      <main>{route.name === "job" ? <JobPage key={route.id} api={api} token={session.token} id={route.id} /> : <OverviewPage api={api} filter={route.filter} />}</main>
    </div>
  );
}
