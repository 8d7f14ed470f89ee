import type { ServerInfo } from "../lib/types.js";

/** The top bar: the dashboard's name (a link home), the server's version and address, log out. */
export function Header(props: { info: ServerInfo; onLogout(): void }) {
  return (
    <header class="topbar">
      <a class="brand" href="#/">
        SAGE JobManager
      </a>
      <span class="server">
        v{props.info.version} · {props.info.host}:{props.info.port}
      </span>
      <button type="button" class="ghost" onClick={props.onLogout}>
        Log out
      </button>
    </header>
  );
}
