import { useState } from "preact/hooks";

/** The login page: the token box alone, and why the last try failed. */
export function Login(props: { message?: string; onLogin(token: string, remember: boolean): Promise<void> }) {
  const [token, setToken] = useState("");
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const submit = async (event: Event) => {
    event.preventDefault();
    const given = token.trim();
    if (!given) {
      setError("Enter the JobManager's token.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await props.onLogin(given, remember);
    } catch (failure) {
      const status = (failure as { status?: number }).status;
      setError(status === 401 ? "Wrong token: the JobManager did not accept it." : `Cannot log in: ${(failure as Error).message}`);
      setBusy(false);
    }
  };

  const shown = error ?? props.message;
  return (
    <div class="login">
      <form class="card login-card" onSubmit={submit} aria-label="Log in">
        <h1>SAGE JobManager</h1>
        <p class="hint">
          Enter the JobManager's token. <code>sage jobmanager status</code> says which file holds it (<code>token</code> in the data directory).
        </p>
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" value={token} onInput={(e) => setToken(e.currentTarget.value)} disabled={busy} autoFocus />
        <label class="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} /> Remember on this browser
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Checking…" : "Log in"}
        </button>
        {shown && (
          <p class="error" role="alert" id="login-error">
            {shown}
          </p>
        )}
      </form>
    </div>
  );
}
