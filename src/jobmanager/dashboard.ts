import { DASHBOARD_JS } from "./dashboard-script.js";
import { DASHBOARD_CSS } from "./dashboard-style.js";

/**
 * The page's policy: script and style only from the server's own files, never inline, so markup
 * that slipped into the page could not run; the event streams are WebSockets to the same server.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** The JobManager's web dashboard page: markup only, its script and style are separate files. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SAGE JobManager</title>
<link rel="stylesheet" href="/dashboard.css">
<script type="module" src="/dashboard.js"></script>
</head>
<body>
<header><h1>SAGE JobManager</h1><span id="server"></span></header>
<div id="login" hidden><section><p>Enter the JobManager token (it is stored in the JobManager's data directory, file <code>token</code>).</p>
<input id="token" type="password" autocomplete="off"><button id="save">Connect</button><p class="error" id="loginError"></p></section></div>
<main id="app" hidden>
  <section><h3>Jobs</h3><table><thead><tr><th>Job</th><th>State</th><th>Tasks</th><th>Services</th><th>Runtime</th></tr></thead><tbody id="jobs"></tbody></table></section>
  <section id="detail"><p>Select a job.</p></section>
</main>
</body>
</html>
`;

/** A file the dashboard is made of: where it is served, its headers and its content. */
export interface DashboardFile {
  path: RegExp;
  headers: Record<string, string>;
  body: string;
}

const common = { "x-content-type-options": "nosniff", "cache-control": "no-cache" };

/** The dashboard's page and assets; all public, like the page (the API behind them is not). */
export const DASHBOARD_FILES: readonly DashboardFile[] = [
  { path: /^\/(dashboard)?$/, headers: { ...common, "content-type": "text/html; charset=utf-8", "content-security-policy": DASHBOARD_CSP }, body: DASHBOARD_HTML },
  { path: /^\/dashboard\.js$/, headers: { ...common, "content-type": "text/javascript; charset=utf-8" }, body: DASHBOARD_JS },
  { path: /^\/dashboard\.css$/, headers: { ...common, "content-type": "text/css; charset=utf-8" }, body: DASHBOARD_CSS },
];
