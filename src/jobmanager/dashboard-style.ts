/** The dashboard's stylesheet, served as `/dashboard.css` (the page's CSP allows no inline style). */
export const DASHBOARD_CSS = `:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f6f7f9; }
body { margin: 0; }
header { background: #1d2330; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: baseline; }
header h1 { font-size: 18px; margin: 0; }
header span { opacity: .7; font-size: 13px; }
main { display: grid; grid-template-columns: minmax(440px, 2fr) 3fr; gap: 16px; padding: 16px 20px; }
main[hidden], #login[hidden] { display: none; }
section { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.08); padding: 12px 16px; overflow: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eef0f3; white-space: nowrap; }
tr.job { cursor: pointer; } tr.job:hover, tr.job.selected { background: #eef3ff; }
.state { font-weight: 600; } .running, .finishing { color: #1a73e8; } .finished { color: #188038; }
.failed { color: #c5221f; } .stopped { color: #b06000; } .created { color: #5f6368; }
pre { background: #11151c; color: #d7dde8; padding: 10px; border-radius: 6px; max-height: 320px; overflow: auto; font-size: 12px; }
.error { color: #c5221f; white-space: pre-wrap; }
ul.services { margin: 4px 0; padding-left: 20px; } .metrics { color: #5f6368; }
button { font: inherit; padding: 4px 10px; }
#login { max-width: 420px; margin: 80px auto; }
#login input { width: 100%; padding: 8px; margin: 8px 0; box-sizing: border-box; }
`;
