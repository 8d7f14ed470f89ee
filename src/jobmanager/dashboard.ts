/**
 * The JobManager's web dashboard: one self-contained page (no build step, no dependencies). It
 * asks for the token once (kept in the browser's localStorage), lists jobs, and follows the
 * selected job live over its WebSocket event stream: state, per-operator counters and log lines.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SAGE JobManager</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
  body { margin: 0; }
  header { background: #1d2330; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  header span { opacity: .7; font-size: 13px; }
  main { display: grid; grid-template-columns: minmax(440px, 2fr) 3fr; gap: 16px; padding: 16px 20px; }
  section { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.08); padding: 12px 16px; overflow: auto; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eef0f3; white-space: nowrap; }
  tr.job { cursor: pointer; } tr.job:hover, tr.job.selected { background: #eef3ff; }
  .state { font-weight: 600; } .running, .finishing { color: #1a73e8; } .finished { color: #188038; }
  .failed { color: #c5221f; } .stopped { color: #b06000; } .created { color: #5f6368; }
  pre { background: #11151c; color: #d7dde8; padding: 10px; border-radius: 6px; max-height: 320px; overflow: auto; font-size: 12px; }
  .error { color: #c5221f; white-space: pre-wrap; }
  button { font: inherit; padding: 4px 10px; }
  #login { max-width: 420px; margin: 80px auto; }
  #login input { width: 100%; padding: 8px; margin: 8px 0; box-sizing: border-box; }
</style>
</head>
<body>
<header><h1>SAGE JobManager</h1><span id="server"></span></header>
<div id="login" hidden><section><p>Enter the JobManager token (it is stored in the JobManager's data directory, file <code>token</code>).</p>
<input id="token" type="password" autocomplete="off"><button id="save">Connect</button><p class="error" id="loginError"></p></section></div>
<main id="app" hidden>
  <section><h3>Jobs</h3><table><thead><tr><th>Job</th><th>State</th><th>Tasks</th><th>Services</th><th>Runtime</th></tr></thead><tbody id="jobs"></tbody></table></section>
  <section id="detail"><p>Select a job.</p></section>
</main>
<script type="module">
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("sage.token") || "";
// A link of the form /#token=... (as \`sage jobmanager status\` prints it) logs in once and is then cleaned from the address bar.
const linked = new URLSearchParams(location.hash.slice(1)).get("token");
if (linked) { token = linked; localStorage.setItem("sage.token", token); history.replaceState(null, "", location.pathname); }
let selected = null, socket = null, logLines = [];
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const ms = (n) => n < 1000 ? n + " ms" : (n / 1000).toFixed(1) + " s";
async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...(init.headers || {}), authorization: "Bearer " + token } });
  const body = await response.json();
  if (response.status === 401) { showLogin(body.error.message); throw new Error(body.error.message); }
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}
function showLogin(message) { $("app").hidden = true; $("login").hidden = false; $("loginError").textContent = message || ""; }
$("save").onclick = () => { token = $("token").value.trim(); localStorage.setItem("sage.token", token); start(); };
async function refreshJobs() {
  const jobs = await api("/api/jobs");
  $("jobs").innerHTML = jobs.slice().reverse().map((j) => '<tr class="job' + (j.id === selected ? " selected" : "") + '" data-id="' + esc(j.id) + '"><td>' + esc(j.name) + ' <small>' + esc(j.id.slice(0, 8)) + '</small></td><td class="state ' + esc(j.state) + '">' + esc(j.state) + '</td><td>' + j.tasks + '</td><td>' + j.services + '</td><td>' + ms(j.runtimeMs) + '</td></tr>').join("");
  for (const row of document.querySelectorAll("tr.job")) row.onclick = () => select(row.dataset.id);
  if (selected === null && jobs.length > 0) select(jobs[jobs.length - 1].id);
}
function renderDetail(status) {
  const ops = status.operators.map((o) => '<tr><td>' + esc(o.name) + '</td><td>' + esc(o.kind) + '</td><td>' + o.parallelism + '</td><td>' + o.recordsIn.toLocaleString() + '</td><td>' + o.recordsOut.toLocaleString() + '</td><td>' + o.errors + '</td></tr>').join("");
  const services = (status.serviceDetails || []).map((s) => esc(s.name) + " (" + esc(s.state) + ", " + s.calls + " calls)").join(", ") || "none";
  const live = status.state === "running" || status.state === "created" || status.state === "finishing";
  $("detail").innerHTML = '<h3>' + esc(status.name) + ' <small>' + esc(status.id) + '</small></h3>' +
    '<p><span class="state ' + esc(status.state) + '">' + esc(status.state) + '</span> · ' + ms(status.runtimeMs) + ' · tasks ' + status.tasks + ' · services ' + status.services + ' · ' + esc(status.platform) +
    (live ? ' <button id="stop">Stop</button>' : "") + '</p>' +
    (status.error ? '<p class="error">' + (status.error.operator ? esc(status.error.operator) + ": " : "") + esc(status.error.message) + '</p>' : "") +
    '<table><thead><tr><th>Operator</th><th>Kind</th><th>Parallelism</th><th>In</th><th>Out</th><th>Errors</th></tr></thead><tbody>' + ops + '</tbody></table>' +
    '<p>Services: ' + services + '</p><h4>Log</h4><pre id="log">' + esc(logLines.join("\\n")) + '</pre>';
  if (live) $("stop").onclick = () => api("/api/jobs/" + status.id + "/stop", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
}
async function select(id) {
  selected = id; logLines = [];
  if (socket) socket.close();
  const logs = await api("/api/jobs/" + id + "/logs");
  logLines = logs.lines.slice(-500);
  renderDetail(await api("/api/jobs/" + id));
  refreshJobs();
  socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/jobs/" + id + "/events?token=" + encodeURIComponent(token));
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.jobId !== selected) return;
    if (event.type === "log") { logLines.push(event.message); if (logLines.length > 500) logLines.shift(); const log = $("log"); if (log) { log.textContent = logLines.join("\\n"); log.scrollTop = log.scrollHeight; } return; }
    renderDetail(event.status);
    if (event.type === "state") refreshJobs();
  };
}
async function start() {
  if (!token) return showLogin();
  try {
    const info = await api("/api/info");
    $("server").textContent = "v" + info.version + " · " + info.host + ":" + info.port;
    $("login").hidden = true; $("app").hidden = false;
    await refreshJobs();
    setInterval(refreshJobs, 2000);
  } catch (error) { showLogin(error.message); }
}
start();
</script>
</body>
</html>
`;
