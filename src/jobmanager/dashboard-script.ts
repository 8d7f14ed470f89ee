/**
 * The dashboard's script, served as `/dashboard.js` (the page's CSP allows no inline script). It
 * asks for the token once (kept in localStorage), lists jobs, and follows the selected job over its
 * WebSocket event stream. Every value from the API goes into the page escaped, numbers included: a
 * job process reports its own status, so any field may hold markup.
 */
export const DASHBOARD_JS = `"use strict";
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("sage.token") || "";
// A link of the form /#token=... (as \`sage jobmanager status\` prints it) logs in once and is then cleaned from the address bar.
const linked = new URLSearchParams(location.hash.slice(1)).get("token");
if (linked) { token = linked; localStorage.setItem("sage.token", token); history.replaceState(null, "", location.pathname); }
let selected = null, socket = null, logLines = [], refresher = null;
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const isNumber = (value) => typeof value === "number" && Number.isFinite(value);
const num = (value) => isNumber(value) ? value.toLocaleString() : esc(value);
const ms = (value) => !isNumber(value) ? esc(value) : value < 1000 ? value + " ms" : (value / 1000).toFixed(1) + " s";
const list = (value) => Array.isArray(value) ? value : [];
const jobPath = (id) => "/api/jobs/" + encodeURIComponent(id);
async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...(init.headers || {}), authorization: "Bearer " + token } });
  const body = await response.json();
  if (response.status === 401) { showLogin(body.error.message); throw new Error(body.error.message); }
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}
function showLogin(message) { $("app").hidden = true; $("login").hidden = false; $("loginError").textContent = message || ""; }
$("save").addEventListener("click", () => { token = $("token").value.trim(); localStorage.setItem("sage.token", token); start(); });
function jobRow(j) {
  return '<tr class="job' + (j.id === selected ? " selected" : "") + '" data-id="' + esc(j.id) + '"><td>' + esc(j.name) + ' <small>' + esc(String(j.id).slice(0, 8)) +
    '</small></td><td class="state ' + esc(j.state) + '">' + esc(j.state) + '</td><td>' + num(j.tasks) + '</td><td>' + num(j.services) + '</td><td>' + ms(j.runtimeMs) + '</td></tr>';
}
async function refreshJobs() {
  const jobs = list(await api("/api/jobs"));
  $("jobs").innerHTML = jobs.slice().reverse().map(jobRow).join("");
  for (const row of document.querySelectorAll("tr.job")) row.addEventListener("click", () => select(row.dataset.id));
  if (selected === null && jobs.length > 0) select(jobs[jobs.length - 1].id);
}
function operatorRow(o) {
  return '<tr><td>' + esc(o.name) + '</td><td>' + esc(o.kind) + '</td><td>' + num(o.parallelism) + '</td><td>' + num(o.recordsIn) + '</td><td>' + num(o.recordsOut) + '</td><td>' + num(o.errors) + '</td></tr>';
}
// A service's published counters (its metrics()), names and values escaped like every other field.
function metricPairs(metrics) {
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics)) return "";
  return Object.entries(metrics).map(([name, value]) => esc(name) + " " + num(value)).join(" · ");
}
function serviceItem(s) {
  const metrics = metricPairs(s.metrics);
  return '<li>' + esc(s.name) + " (" + esc(s.state) + ", " + num(s.calls) + " calls" + (s.worker ? ", on " + esc(s.worker) : "") + ")" +
    (metrics ? '<br><small class="metrics">' + metrics + '</small>' : "") + '</li>';
}
function renderDetail(status) {
  const items = list(status.serviceDetails).map(serviceItem).join("");
  const services = items ? '<p>Services:</p><ul class="services">' + items + '</ul>' : '<p>Services: none</p>';
  const live = status.state === "running" || status.state === "created" || status.state === "finishing";
  $("detail").innerHTML = '<h3>' + esc(status.name) + ' <small>' + esc(status.id) + '</small></h3>' +
    '<p><span class="state ' + esc(status.state) + '">' + esc(status.state) + '</span> · ' + ms(status.runtimeMs) + ' · tasks ' + num(status.tasks) + ' · services ' + num(status.services) + ' · ' + esc(status.platform) +
    (live ? ' <button id="stop">Stop</button>' : "") + '</p>' +
    (status.error ? '<p class="error">' + (status.error.operator ? esc(status.error.operator) + ": " : "") + esc(status.error.message) + '</p>' : "") +
    '<table><thead><tr><th>Operator</th><th>Kind</th><th>Parallelism</th><th>In</th><th>Out</th><th>Errors</th></tr></thead><tbody>' + list(status.operators).map(operatorRow).join("") + '</tbody></table>' +
    services + '<h4>Log</h4><pre id="log">' + esc(logLines.join("\\n")) + '</pre>';
  if (live) $("stop").addEventListener("click", () => api(jobPath(status.id) + "/stop", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }));
}
async function select(id) {
  selected = id; logLines = [];
  if (socket) socket.close();
  const logs = await api(jobPath(id) + "/logs");
  logLines = list(logs.lines).slice(-500);
  renderDetail(await api(jobPath(id)));
  refreshJobs();
  socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + jobPath(id) + "/events?token=" + encodeURIComponent(token));
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.jobId !== selected) return;
    if (event.type === "log") { logLines.push(String(event.message)); if (logLines.length > 500) logLines.shift(); const log = $("log"); if (log) { log.textContent = logLines.join("\\n"); log.scrollTop = log.scrollHeight; } return; }
    renderDetail(event.status);
    if (event.type === "state") refreshJobs();
  });
}
// The header's server overview: version, address and, with a cluster, its live workers (slots used/total). Text only: no markup.
function serverLine(info) {
  let line = "v" + info.version + " · " + info.host + ":" + info.port;
  if (info.cluster) {
    const workers = list(info.cluster.workers);
    line += " · cluster " + info.cluster.url + (info.cluster.connected === false ? " (disconnected)" : "") + " · " +
      (workers.length === 0 ? "no workers" : workers.map((w) => w.name + " " + w.used + "/" + w.slots).join(", "));
  }
  return line;
}
async function refreshInfo() { $("server").textContent = serverLine(await api("/api/info")); }
async function start() {
  if (!token) return showLogin();
  try {
    $("server").textContent = serverLine(await api("/api/info"));
    $("login").hidden = true; $("app").hidden = false;
    await refreshJobs();
    refresher ??= setInterval(() => { refreshJobs(); refreshInfo().catch(() => {}); }, 2000);
  } catch (error) { showLogin(error.message); }
}
start();
`;
