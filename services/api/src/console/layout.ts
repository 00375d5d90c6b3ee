import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { ApiCaller } from "../auth";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const CSS = `
:root { color-scheme: light dark; --bg:#fbfbfc; --fg:#1d2330; --muted:#5b6475; --line:#d9dde5; --card:#fff; --accent:#2456d6;
  --crit:#c21d2f; --high:#d4580b; --med:#a57f00; --low:#53657d; --ok:#177245; --bar:#8fa6d9; }
@media (prefers-color-scheme: dark) { :root { --bg:#12151b; --fg:#e6e9ef; --muted:#9aa3b5; --line:#2c323d; --card:#1a1e26;
  --accent:#7fa4ff; --crit:#ff6b7a; --high:#ff9a57; --med:#e2c04a; --low:#9fb0c9; --ok:#5fd39a; --bar:#4b6296; } }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
a { color:var(--accent); } a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline:3px solid var(--accent); outline-offset:2px; }
header { display:flex; gap:1rem; align-items:center; flex-wrap:wrap; padding:.6rem 1rem; border-bottom:1px solid var(--line); background:var(--card); }
header nav { display:flex; gap:.9rem; flex-wrap:wrap; } header .who { margin-left:auto; color:var(--muted); font-size:.9em; }
main { padding:1rem; max-width:1200px; margin:0 auto; }
h1 { font-size:1.35rem; margin:.2rem 0 1rem; } h2 { font-size:1.1rem; margin:1.4rem 0 .5rem; }
table { border-collapse:collapse; width:100%; background:var(--card); } th, td { text-align:left; padding:.4rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:.85em; }
.sev { font-weight:700; text-transform:uppercase; font-size:.8em; } .sev-critical{color:var(--crit)} .sev-high{color:var(--high)} .sev-medium{color:var(--med)} .sev-low,.sev-info{color:var(--low)}
.muted { color:var(--muted); } .mono { font-family: ui-monospace, Menlo, monospace; font-size:.88em; word-break:break-all; }
.card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.8rem 1rem; margin:.6rem 0; }
.input { white-space:pre-wrap; border-left:3px solid var(--accent); padding:.3rem .6rem; margin:.3rem 0; background:var(--bg); }
.step { display:grid; grid-template-columns: minmax(14rem, 2fr) 3fr; gap:.8rem; padding:.45rem 0; border-bottom:1px solid var(--line); }
.step.destructive { border-left:4px solid var(--crit); padding-left:.5rem; } .step.alerting { background: color-mix(in srgb, var(--crit) 8%, transparent); }
.bar { height:.6rem; background:var(--bar); border-radius:3px; min-width:2px; } .lane { position:relative; height:.6rem; margin:.3rem 0; }
.tag { display:inline-block; padding:0 .4rem; border:1px solid var(--line); border-radius:3px; font-size:.8em; margin-right:.3rem; }
.tag.bad { border-color:var(--crit); color:var(--crit); } .tag.good { border-color:var(--ok); color:var(--ok); }
form.inline { display:inline; } button { font:inherit; padding:.3rem .8rem; border:1px solid var(--line); border-radius:4px; background:var(--card); color:var(--fg); cursor:pointer; }
input, select { font:inherit; padding:.3rem .5rem; border:1px solid var(--line); border-radius:4px; background:var(--card); color:var(--fg); }
.filters { display:flex; gap:.5rem; flex-wrap:wrap; align-items:end; margin-bottom:.8rem; } .filters label { display:flex; flex-direction:column; font-size:.85em; color:var(--muted); }
svg.chart { width:100%; max-width:420px; height:60px; } svg.chart .band { fill: color-mix(in srgb, var(--accent) 18%, transparent); } svg.chart .line { fill:none; stroke:var(--fg); stroke-width:1.2; }
@media (max-width: 700px) { .step { grid-template-columns: 1fr; } th.opt, td.opt { display:none; } }
`;

export function page(title: string, caller: ApiCaller | undefined, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Vigil</title>
        <style>
          ${raw(CSS)}
        </style>
      </head>
      <body>
        <header>
          <strong>Vigil</strong>
          ${
            caller === undefined
              ? ""
              : html`<nav aria-label="Main">
                    <a href="/alerts">Alerts</a><a href="/agents">Agents</a><a href="/sessions">Sessions</a
                    ><a href="/decisions">Approvals</a><a href="/integrity">Integrity</a>
                  </nav>
                  <span class="who">${caller.name} (${caller.role}) · <a href="/logout">Sign out</a></span>`
          }
        </header>
        <main id="main">${body}</main>
      </body>
    </html>`;
}

export function severity(s: string): Html {
  return html`<span class="sev sev-${s}">${s}</span>`;
}

export function nsToIso(ns: string): string {
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString().replace("T", " ").slice(0, 19) + "Z";
}

type Cell = Html | string | number;

/** A table of rows, or a line saying there is nothing; optional columns hide on phones. */
export function dataTable(
  columns: ReadonlyArray<{ label: string; optional?: boolean; mono?: boolean }>,
  rows: ReadonlyArray<readonly Cell[]>,
  empty: string,
): Html {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  const cls = (i: number): string =>
    [columns[i]?.optional === true ? "opt" : "", columns[i]?.mono === true ? "mono" : ""]
      .filter((c) => c !== "")
      .join(" ");
  return html`<table>
    <thead>
      <tr>
        ${columns.map((col, i) => html`<th class="${cls(i)}">${col.label}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            ${r.map((cell, i) => html`<td class="${cls(i)}">${cell}</td>`)}
          </tr>`,
      )}
    </tbody>
  </table>`;
}
