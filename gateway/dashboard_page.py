"""The dashboard's page (gateway/dashboard.py serves it): inline CSS and JS, no external asset,
so it works offline and in a package without data files. The JS polls this gateway only."""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Migration dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.2em 2em; color: #1d2330;
         background: #f6f7f9; }
  h1 { font-size: 1.3em; margin: 0 0 .2em; }
  #status { color: #667; margin-bottom: 1em; }
  #status.bad { color: #b3261e; font-weight: 600; }
  section.route { background: #fff; border: 1px solid #dde1e7; border-radius: 8px;
                  padding: .8em 1.1em; margin-bottom: 1em; }
  section.route h2 { font-size: 1.05em; margin: 0 0 .4em; font-family: ui-monospace, monospace; }
  .facts { display: flex; flex-wrap: wrap; gap: 1.6em; margin-bottom: .5em; }
  .fact b { display: block; font-size: .75em; text-transform: uppercase; color: #667;
           font-weight: 500; }
  .fact span { font-size: 1.15em; font-variant-numeric: tabular-nums; }
  .rolled { color: #b3261e; font-weight: 600; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
  td, th { padding: .15em .9em .15em 0; text-align: left; }
  th { font-weight: 500; color: #667; font-size: .85em; }
  .charts { display: flex; gap: 1.2em; flex-wrap: wrap; margin-top: .5em; }
  .chart { font-size: .8em; color: #667; }
  svg { background: #fafbfc; border: 1px solid #e6e9ee; display: block; }
  .empty { color: #889; }
</style></head>
<body>
<h1>Migration dashboard</h1>
<div id="status">loading…</div>
<div id="routes"></div>
<script>
"use strict";
const POLL_MS = 2000, KEEP_MS = 10 * 60 * 1000;
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const headers = token ? { Authorization: "Bearer " + token } : {};
const series = {};  // route key -> [{t, share, errors, p99}] : the charts, kept client-side

function esc(text) {
  return String(text).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;",
    '"': "&quot;", "'": "&#39;"})[c]);
}
function rate(part, whole) { return whole ? (100 * part / whole).toFixed(1) + "%" : "-"; }
function ms(value) { return value === null || value === undefined ? "-" : "≈" + value + " ms"; }

async function getJson(path) {
  const answer = await fetch(path, { headers, cache: "no-store" });
  if (!answer.ok) throw new Error(path + " answered " + answer.status);
  return answer.json();
}

function chart(points, field, label, max) {
  const w = 220, h = 60;
  const values = points.map(p => p[field]).filter(v => v !== null);
  const top = Math.max(max || 0, ...values, 1e-9);
  // The right edge is now; the chart spans a minute at first, then up to KEEP_MS.
  const now = Date.now(), first = points.length ? points[0].t : now;
  const span = Math.min(KEEP_MS, Math.max(60 * 1000, now - first)), start = now - span;
  const xy = points.filter(p => p[field] !== null).map(p =>
    ((p.t - start) / span * (w - 3)).toFixed(1) + "," +
    (h - p[field] / top * (h - 4) - 2).toFixed(1));
  const last = values.length ? values[values.length - 1] : null;
  return '<div class="chart">' + esc(label) + ' <span data-chart="' + field + '">' +
    (last === null ? "-" : last.toFixed(1)) + '</span><svg width="' + w + '" height="' + h +
    '" viewBox="0 0 ' + w + " " + h + '"><polyline fill="none" stroke="#2f6fdb" ' +
    'stroke-width="1.5" points="' + xy.join(" ") + '"/></svg></div>';
}

function render(routes, data) {
  const counted = (routes.stats && routes.stats.routes) || {};
  const canaries = routes.canaries || {};
  const now = Date.now();
  const html = data.routes.map(route => {
    const stats = counted[route.key] || { requests: 0, errors: 0, by_backend: {}, shadow: {} };
    const shadow = stats.shadow || {}, matched = shadow.match || 0;
    const compared = matched + (shadow.mismatch || 0);
    const ramp = canaries[route.key];
    let share = "-", shareValue = null, canaryFact = "none";
    if (route.canary) {
      const moved = ((stats.by_backend || {})[route.canary.target] || {}).requests || 0;
      share = rate(moved, stats.requests);
      shareValue = stats.requests ? 100 * moved / stats.requests : null;
      const percent = ramp && ramp.percent !== null ? ramp.percent : route.canary.percent;
      canaryFact = esc(route.canary.target) + " at " + percent + "%" +
        (route.canary.auto ? (ramp && ramp.rolled_back ? ' <span class="rolled">rolled back</span>'
                                                         : " (ramping)") : "");
    }
    const primaryP99 = (route.backends[route.target] || {}).p99_ms;
    const points = (series[route.key] = (series[route.key] || []).concat([{ t: now,
      share: shareValue, errors: stats.requests ? 100 * stats.errors / stats.requests : null,
      p99: primaryP99 === undefined ? null : primaryP99 }]).filter(p => now - p.t <= KEEP_MS));
    const rows = Object.entries(route.backends).map(([name, b]) =>
      '<tr data-backend="' + esc(name) + '"><td>' + esc(name) + '</td><td data-field="calls">' +
      b.calls + '</td><td data-field="p50">' + ms(b.p50_ms) + '</td><td data-field="p99">' +
      ms(b.p99_ms) + "</td></tr>").join("");
    return '<section class="route" data-route="' + esc(route.key) + '"><h2>' + esc(route.key) +
      "</h2><div class=\\"facts\\">" +
      fact("target", esc(route.target)) + fact("canary", canaryFact) +
      fact("canary share", share, "share") + fact("requests", stats.requests, "requests") +
      fact("error rate", rate(stats.errors, stats.requests), "error_rate") +
      fact("shadow", route.shadow ? esc(route.shadow) : "none") +
      fact("shadow match", rate(matched, compared), "shadow_match") + "</div>" +
      "<table><tr><th>backend</th><th>calls</th><th>p50</th><th>p99</th></tr>" + rows +
      '</table><div class="charts">' + chart(points, "share", "canary share %", 100) +
      chart(points, "errors", "error rate %", 1) + chart(points, "p99", "primary p99 ms") +
      "</div></section>";
  }).join("");
  document.getElementById("routes").innerHTML =
    html || '<p class="empty">No routes in the table: everything goes to the default.</p>';
}

function fact(label, value, field) {
  return '<div class="fact"><b>' + esc(label) + "</b><span" +
    (field ? ' data-field="' + field + '"' : "") + ">" + value + "</span></div>";
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const [routes, data] = await Promise.all([getJson("/_gateway/routes"),
                                              getJson("/_gateway/dashboard/data")]);
    render(routes, data);
    status.className = "";
    status.textContent = "table " + data.version + " · updated " +
      new Date().toLocaleTimeString() + " · every " + POLL_MS / 1000 + " s";
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  } catch (error) {
    status.className = "bad";
    status.textContent = "cannot read the gateway: " + error.message;
  }
  setTimeout(poll, POLL_MS);
}
poll();
</script>
</body></html>
"""
