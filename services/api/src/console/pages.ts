import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { html } from "hono/html";
import type { DigestRegistry } from "@vigil/common";
import type { VigilConfig } from "@vigil/config";
import {
  acksOf,
  allCallBuckets,
  alertsByIds,
  causingInputs,
  countAlertsByAgentAndDetector,
  deliveriesOfAlert,
  findAgentActions,
  findAlerts,
  findSession,
  insertAck,
  latestBaselines,
  listAgentSummaries,
  listDecisions,
  listSessions,
  verifyStore,
} from "@vigil/store";
import type { Alert, ClickHouseClient, DecisionLog, SigningKey, StoredSpan } from "@vigil/store";
import { decideRequest } from "../decision-routes";
import { FIRST_TIME_DETECTORS } from "@vigil/alerting";
import type { KeyObject } from "node:crypto";
import type { ApiCaller } from "../auth";
import { parseSince } from "../params";
import { actionSummary, alertsBySpan, describeBaseline } from "../views";
import { volumeChart } from "./chart";
import { sessionDatabaseSide } from "../reported-vs-observed";
import { diffPolicy, observePermissions, policyYaml, promotionReport, suggestPolicy } from "@vigil/advisor";
import { dataTable, nsToIso, page, severity } from "./layout";
import { ConsoleSessions } from "./session";
import type { ConsoleEnv } from "./session";

const ns = (ms: number): string => String(BigInt(Math.round(ms)) * 1_000_000n);
const msOf = (ns: string): number => Number(BigInt(ns) / 1_000_000n);

export interface ConsoleDeps {
  client: ClickHouseClient;
  config: VigilConfig;
  keys: DigestRegistry<ApiCaller>;
  /** Signs approval tokens when a person approves in the console (read at request time). */
  approvalKey?: () => SigningKey | undefined;
  /** Read at request time: the all-in-one fills it in once the ledger is open. */
  ledgerKey: () => { name: string; publicKey: KeyObject } | undefined;
  /** Where people's answers to gate requests are recorded (ledgered). */
  decisionLog: () => Promise<DecisionLog>;
}

/**
 * Where to go after sign-in: a path on this site only. Parsed as a URL against a
 * placeholder origin, so `//host`, `/\\host`, `https:x` and control characters, which
 * browsers read as other sites, all fall back to the inbox.
 */
export function sameOriginPath(next: unknown): string {
  if (typeof next !== "string" || !next.startsWith("/") || /[\u0000-\u001f\\]/.test(next)) return "/alerts";
  const base = "http://vigil.invalid";
  try {
    const url = new URL(next, base);
    return url.origin === base ? url.pathname + url.search + url.hash : "/alerts";
  } catch {
    return "/alerts";
  }
}

/**
 * The web console, server-rendered (no build step, no client script): alerts inbox, an
 * alert, agents with their volume against the baseline band, an agent, its last hour,
 * sessions and a session timeline, and integrity.
 */
export function consoleApp(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const { client } = deps;
  const sessions = new ConsoleSessions(deps.keys);
  const app = new Hono<ConsoleEnv>();
  // Cross-origin form posts are refused (Origin check) on the console's forms only.
  const sameOrigin = csrf();

  app.get("/login", (c) => {
    const next = c.req.query("next") ?? "/alerts";
    const failed = c.req.query("failed") !== undefined;
    return c.html(
      page(
        "Sign in",
        undefined,
        html`<h1>Sign in</h1>
          <form method="post" action="/login" class="card">
            ${failed ? html`<p role="alert" class="sev-critical">That API key is not known.</p>` : ""}
            <p>
              <label for="key">API key</label><br /><input
                id="key"
                name="key"
                type="password"
                autocomplete="current-password"
                required
                size="48"
                autofocus
              />
            </p>
            <input type="hidden" name="next" value="${next}" />
            <button type="submit">Sign in</button>
            <p class="muted">
              Use a key from <code>api_keys</code> in the config; the first start printed an admin key.
            </p>
          </form>`,
      ),
    );
  });

  app.post("/login", sameOrigin, async (c) => {
    const form = await c.req.parseBody();
    const next = sameOriginPath(form.next);
    if (typeof form.key !== "string" || sessions.signIn(c, form.key.trim()) === undefined)
      return c.redirect(`/login?failed=1&next=${encodeURIComponent(next)}`, 303);
    return c.redirect(next, 303);
  });

  // Signing out changes state, so it is a POST with the session's CSRF token; the
  // header's link leads to this one-button form.
  app.get("/logout", sessions.required, (c) =>
    c.html(
      page(
        "Sign out",
        c.get("caller"),
        html`<h1>Sign out</h1>
          <form method="post" action="/logout" class="card">
            <input type="hidden" name="csrf" value="${c.get("csrf")}" />
            <p><button type="submit">Sign out</button></p>
          </form>`,
      ),
    ),
  );
  app.post("/logout", sameOrigin, sessions.required, sessions.csrfChecked, (c) => {
    sessions.signOut(c);
    return c.redirect("/login", 303);
  });

  // Every page needs a signed-in key (registered per route, so /api and /healthz are untouched).
  const ui = new Hono<ConsoleEnv>();
  const auth = sessions.required;
  ui.get("/", auth, (c) => c.redirect("/alerts", 303));

  ui.get("/alerts", auth, async (c) => {
    const q = c.req.query();
    const sinceMs = parseSince(q.since ?? "7d", Date.now()) ?? Date.now() - 7 * 86_400_000;
    // By when Vigil raised them (not the event time the agent stated), newest first, 100 a
    // page. First-time activity is collapsed per agent and detector above the list (all of
    // it with ?all=1), so a flood of novelty cannot push a rule's alert off the page.
    const PAGE = 100;
    const expand = q.all === "1";
    const before = /^(\d{1,15}):([0-9a-f]{32})$/.exec(q.before ?? "");
    const alerts = await findAlerts(client, {
      ...(q.agent ? { agentId: q.agent } : {}),
      ...(q.severity ? { severity: q.severity as Alert["severity"] } : {}),
      ...(before === null ? {} : { raisedBefore: { createdAtMs: Number(before[1]), alertId: before[2] as string } }),
      ...(expand ? {} : { excludeDetectors: FIRST_TIME_DETECTORS }),
      raisedSinceMs: sinceMs,
      order: "raised",
      limit: PAGE,
    });
    const firstTime =
      expand || before !== null
        ? []
        : await countAlertsByAgentAndDetector(
            client,
            FIRST_TIME_DETECTORS,
            sinceMs,
            q.agent || undefined,
            (q.severity || undefined) as Alert["severity"] | undefined,
          );
    const acks = await acksOf(
      client,
      alerts.map((a) => a.alertId),
    );
    const last = alerts.at(-1);
    const older =
      alerts.length === PAGE && last !== undefined
        ? `/alerts?${new URLSearchParams({ ...q, before: `${last.createdAtMs}:${last.alertId}` }).toString()}`
        : undefined;
    // The event time is the agent's to state: say when it is far from when Vigil raised it.
    const when = (a: Alert) => {
      const eventMs = Number(BigInt(a.eventTimeNs) / 1_000_000n);
      const mark =
        eventMs < a.createdAtMs - 3_600_000
          ? html` <span class="tag bad">backdated</span>`
          : eventMs > a.createdAtMs + 300_000
            ? html` <span class="tag bad">future-dated</span>`
            : "";
      return html`${new Date(a.createdAtMs).toISOString()}<br /><span class="muted"
          >event ${nsToIso(a.eventTimeNs)}</span
        >${mark}`;
    };
    return c.html(
      page(
        "Alerts",
        c.get("caller"),
        html`<h1>Alerts</h1>
          <form class="filters" method="get" action="/alerts">
            <label>Agent<input name="agent" value="${q.agent ?? ""}" /></label>
            <label
              >Severity<select name="severity">
                <option value="">any</option>
                ${["critical", "high", "medium", "low", "info"].map((s) => html`<option ${q.severity === s ? "selected" : ""}>${s}</option>`)}
              </select></label
            >
            <label>Since<input name="since" value="${q.since ?? "7d"}" size="6" /></label
            ><button type="submit">Filter</button>
          </form>
          ${
            firstTime.length === 0
              ? ""
              : html`<h2>First-time activity</h2>
                  ${dataTable(
                    [{ label: "Agent" }, { label: "Detector", mono: true }, { label: "Alerts" }, { label: "Latest" }],
                    firstTime.map((g) => [
                      html`<a href="/agents/${g.agentId}">${g.agentId}</a>`,
                      g.detector,
                      g.count,
                      html`<a href="/alerts/${g.latest.alertId}">${g.latest.summary}</a>`,
                    ]),
                    "",
                  )}
                  <p class="muted">
                    <a href="/alerts?${new URLSearchParams({ ...q, all: "1" }).toString()}">List every alert</a>
                  </p>
                  <h2>Rules, policies and baselines</h2>`
          }
          ${dataTable(
            [
              { label: "Severity" },
              { label: "Alert" },
              { label: "Agent" },
              { label: "Detector", optional: true, mono: true },
              { label: "Raised (and event time)", optional: true },
              { label: "State" },
            ],
            alerts.map((a) => [
              severity(a.severity),
              html`<a href="/alerts/${a.alertId}">${a.summary}</a>`,
              html`<a href="/agents/${a.agentId}">${a.agentId}</a>`,
              a.detector,
              when(a),
              acks.has(a.alertId)
                ? html`<span class="tag good">acknowledged</span>`
                : html`<span class="tag bad">open</span>`,
            ]),
            "No alerts in this window.",
          )}
          ${older === undefined ? "" : html`<p><a href="${older}">Older alerts</a></p>`}`,
      ),
    );
  });

  ui.get("/alerts/:id", auth, async (c) => {
    const [alert] = await alertsByIds(client, [c.req.param("id")]);
    if (alert === undefined) return c.html(page("Not found", c.get("caller"), html`<h1>No such alert</h1>`), 404);
    const [acks, deliveries] = await Promise.all([
      acksOf(client, [alert.alertId]),
      deliveriesOfAlert(client, alert.alertId),
    ]);
    const ack = acks.get(alert.alertId);
    const admin = c.get("caller").role === "admin";
    return c.html(
      page(
        alert.summary,
        c.get("caller"),
        html`<h1>${severity(alert.severity)} ${alert.summary}</h1>
          <div class="card">
            <p>${alert.explanation}</p>
            <p>
              <span class="tag">${alert.detector}</span> score ${alert.score} · agent
              <a href="/agents/${alert.agentId}">${alert.agentId}</a>
              ${alert.environment ? html` · ${alert.environment}` : ""} · ${nsToIso(alert.eventTimeNs)}
            </p>
            ${alert.sessionId ? html`<p><a href="/sessions/${encodeURIComponent(alert.sessionId)}">Open session ${alert.sessionId}</a></p>` : ""}
            ${
              alert.input
                ? html`<h2>Input that caused it</h2>
                    <div class="input">${alert.input}</div>`
                : ""
            }
            <h2>Evidence</h2>
            <pre class="mono">${JSON.stringify(alert.evidence, null, 2)}</pre>
            ${
              alert.credentials.length > 0
                ? html`<h2>Credentials to rotate</h2>
                    <p>${alert.credentials.map((k) => html`<span class="tag bad mono">${k}</span>`)}</p>`
                : ""
            }
          </div>
          <h2>Acknowledgement</h2>
          ${
            ack !== undefined
              ? html`<p>
                  <span class="tag good">acknowledged</span> by ${ack.author} at
                  ${new Date(ack.ackedAtMs).toISOString()}${ack.note ? html`: ${ack.note}` : ""}
                </p>`
              : admin
                ? html`<form method="post" action="/alerts/${alert.alertId}/ack" class="card">
                    <input type="hidden" name="csrf" value="${c.get("csrf")}" /> <label for="note">Note</label>
                    <input id="note" name="note" size="40" /> <button type="submit">Acknowledge</button>
                  </form>`
                : html`<p class="muted">Open. An admin key can acknowledge it.</p>`
          }
          <h2>Deliveries</h2>
          ${dataTable(
            [
              { label: "Receiver" },
              { label: "Kind" },
              { label: "Attempt" },
              { label: "Outcome" },
              { label: "Status" },
              { label: "At", optional: true },
            ],
            deliveries.map((d) => [
              d.receiver,
              d.kind,
              d.attempt,
              d.outcome,
              d.statusCode || "-",
              new Date(d.atMs).toISOString(),
            ]),
            "None recorded.",
          )}`,
      ),
    );
  });

  ui.post("/alerts/:id/ack", sameOrigin, auth, sessions.csrfChecked, async (c) => {
    if (c.get("caller").role !== "admin") return c.text("Acknowledging needs an admin key.", 403);
    const id = c.req.param("id");
    const [alert] = await alertsByIds(client, [id]);
    if (alert === undefined) return c.text("No such alert.", 404);
    const form = await c.req.parseBody();
    await insertAck(client, {
      alertId: id,
      ackedAtMs: Date.now(),
      author: c.get("caller").name,
      note: typeof form.note === "string" ? form.note.slice(0, 2000) : "",
    });
    return c.redirect(`/alerts/${id}`, 303);
  });

  // The confirmation gate: what agents asked to do, and the pending ones to decide.
  ui.get("/decisions", auth, async (c) => {
    const caller = c.get("caller");
    const mayDecide = caller.role === "admin" || caller.role === "approver";
    const [pending, recent] = await Promise.all([
      listDecisions(client, { status: "pending", limit: 100 }),
      listDecisions(client, { limit: 100 }),
    ]);
    const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    return c.html(
      page(
        "Approvals",
        caller,
        html`<h1>Approvals</h1>
          <h2>Waiting for a decision</h2>
          ${dataTable(
            [
              { label: "Agent" },
              { label: "What Vigil sees", mono: true },
              { label: "The agent says" },
              { label: "Why it needs a person", optional: true },
              { label: "Expires" },
              { label: "Decide" },
            ],
            pending.map((d) => [
              d.agentId,
              d.rendering,
              d.description,
              d.reasons.join("; "),
              when(d.expiresAtMs),
              mayDecide
                ? html`<form method="post" action="/decisions/${d.decisionId}" class="card">
                    <input type="hidden" name="csrf" value="${c.get("csrf")}" />
                    <label for="j-${d.decisionId}">Justification</label>
                    <input id="j-${d.decisionId}" name="justification" required size="28" />
                    <button type="submit" name="verdict" value="approve">Approve</button>
                    <button type="submit" name="verdict" value="deny">Deny</button>
                  </form>`
                : html`<span class="muted">an approver or admin key decides</span>`,
            ]),
            "Nothing is waiting.",
          )}
          <h2>Recent</h2>
          ${dataTable(
            [
              { label: "Requested" },
              { label: "Agent" },
              { label: "What Vigil sees", mono: true },
              { label: "Status" },
              { label: "By", optional: true },
              { label: "Justification", optional: true },
            ],
            recent.map((d) => [when(d.requestedAtMs), d.agentId, d.rendering, d.status, d.decidedBy, d.justification]),
            "No requests yet.",
          )}`,
      ),
    );
  });

  ui.post("/decisions/:id", sameOrigin, auth, sessions.csrfChecked, async (c) => {
    const caller = c.get("caller");
    if (caller.role !== "admin" && caller.role !== "approver")
      return c.text("Deciding needs an approver or admin key.", 403);
    const form = await c.req.parseBody();
    const verdict = form.verdict === "approve" ? "approved" : form.verdict === "deny" ? "denied" : undefined;
    const justification = typeof form.justification === "string" ? form.justification.trim() : "";
    if (verdict === undefined || justification === "") return c.text("Choose approve or deny and say why.", 400);
    const outcome = await decideRequest(
      client,
      deps.decisionLog,
      deps.approvalKey?.(),
      c.req.param("id"),
      verdict,
      caller.name,
      justification,
    );
    if (!outcome.ok) return c.text(outcome.message, outcome.status);
    return c.redirect("/decisions", 303);
  });

  ui.get("/agents", auth, async (c) => {
    const now = Math.floor(Date.now() / 1000);
    const from = now - 24 * 3600;
    const [summaries, baselines, buckets] = await Promise.all([
      listAgentSummaries(client),
      latestBaselines(client),
      allCallBuckets(client, from, now + 300),
    ]);
    const rows = summaries.map((s) => {
      const counts = new Map(
        buckets
          .filter((b) => b.agentId === s.agentId && b.environment === s.environment)
          .map((b) => [b.bucketSec, b.calls]),
      );
      const baseline = baselines.find((b) => b.agentId === s.agentId && b.environment === s.environment);
      return [
        html`<a href="/agents/${s.agentId}">${s.agentId}</a>`,
        s.environment || "-",
        volumeChart(counts, baseline, from, now, `${s.agentId} calls per 5 minutes, last 24 h`),
        s.spans.toLocaleString("en-US"),
        s.alerts24h > 0 ? html`<span class="tag bad">${s.alerts24h}</span>` : "0",
        nsToIso(s.lastSeenNs),
      ];
    });
    return c.html(
      page(
        "Agents",
        c.get("caller"),
        html`<h1>Agents</h1>
          <p class="muted">
            Calls per 5 minutes over the last 24 hours (line) against the baseline band for the same hours of the week
            (shaded).
          </p>
          ${dataTable(
            [
              { label: "Agent" },
              { label: "Environment" },
              { label: "Volume, 24 h" },
              { label: "Spans" },
              { label: "Alerts 24 h" },
              { label: "Last seen", optional: true },
            ],
            rows,
            "No agent has sent spans yet.",
          )}`,
      ),
    );
  });

  ui.get("/agents/:id", auth, async (c) => {
    const id = c.req.param("id");
    const [baselines, alerts] = await Promise.all([
      latestBaselines(client, id),
      findAlerts(client, { agentId: id, limit: 20 }),
    ]);
    const declared = deps.config.agents.find((a) => a.id === id);
    return c.html(
      page(
        id,
        c.get("caller"),
        html`<h1>${id}</h1>
          <p>
            <a href="/agents/${id}/activity?since=1h">What it did in the last hour</a> ·
            <a href="/sessions?agent=${id}">Sessions</a> ·
            <a href="/agents/${id}/permissions">Permissions</a>
          </p>
          ${declared === undefined ? html`<p class="muted">Not declared in the config.</p>` : html`<p class="muted">Timezone ${declared.timezone}${declared.policy === undefined ? "; no declared policy" : "; a declared policy applies"}.</p>`}
          ${
            baselines.length === 0
              ? html`<p class="muted">No baseline yet (rebuilt every 5 minutes).</p>`
              : baselines.map(
                  (b) =>
                    html`<div class="card">
                      <h2>Baseline${b.environment ? html` in ${b.environment}` : ""}</h2>
                      ${describeBaseline(b).map((l) => html`<p>${l}</p>`)}
                      <h2>Tables and operations</h2>
                      <p>
                        ${(b.dimensions.table_operation ?? []).map((v) => html`<span class="tag mono">${v.value} ×${v.calls}</span>`)}
                      </p>
                      <h2>Credentials</h2>
                      <p>
                        ${(b.dimensions.credential ?? []).map((v) => html`<span class="tag mono">${v.value}</span>`)}
                      </p>
                      <h2>Hosts</h2>
                      <p>${(b.dimensions.host ?? []).map((v) => html`<span class="tag mono">${v.value}</span>`)}</p>
                    </div>`,
                )
          }
          <h2>Recent alerts</h2>
          ${
            alerts.length === 0
              ? html`<p class="muted">None.</p>`
              : html`<ul>
                  ${alerts.map((a) => html`<li>${severity(a.severity)} <a href="/alerts/${a.alertId}">${a.summary}</a> <span class="muted">${nsToIso(a.eventTimeNs)}</span></li>`)}
                </ul>`
          }`,
      ),
    );
  });

  // Permissions: what the agent used, the policy allowing exactly that, and promotion readiness.
  ui.get("/agents/:id/permissions", auth, async (c) => {
    const id = c.req.param("id");
    const since = c.req.query("since") ?? "30d";
    const fromMs = parseSince(since, Date.now()) ?? Date.now() - 30 * 86_400_000;
    const envs = (await listAgentSummaries(client)).filter((s) => s.agentId === id).sort((a, b) => b.spans - a.spans);
    const environment = c.req.query("environment") ?? envs[0]?.environment ?? "";
    const agent = deps.config.agents.find((a) => a.id === id);
    const observed = await observePermissions(client, {
      agentId: id,
      environment,
      fromMs,
      toMs: Date.now() + 60_000,
      timezone: agent?.timezone ?? "UTC",
    });
    const suggestion = suggestPolicy(observed);
    const diff = diffPolicy(observed, agent?.policy);
    const promotion = await promotionReport(client, { agentId: id, environment, windowDays: 7 });
    const list = (field: string, values: Partial<Record<string, string[]>>) => values[field] ?? [];
    return c.html(
      page(
        `${id}: permissions`,
        c.get("caller"),
        html`<h1>Permissions of ${id}</h1>
          <p class="muted">
            ${environment || "no environment"} · since ${since} · ${observed.spans} spans in ${observed.sessions}
            sessions${observed.auditRecords > 0 ? ` (${observed.auditRecords} of them database audit records)` : ""} ·
            <a href="/api/agents/${id}/permissions?format=yaml&since=${since}">policy as YAML</a>
          </p>
          <h2>Table operations used</h2>
          ${dataTable(
            [
              { label: "Table:operation", mono: true },
              { label: "Uses" },
              { label: "Seen by the database" },
              { label: "Sessions" },
              { label: "Verdict" },
            ],
            observed.items.table_operation.map((i) => [
              i.value,
              i.calls,
              i.seenByDatabase === i.calls && i.calls > 0
                ? html`<span class="tag bad" title="no span of the agent reported it"
                    >${i.seenByDatabase}: only there</span
                  >`
                : i.seenByDatabase,
              i.sessions,
              i.rare
                ? html`<span class="tag bad"
                    >rare: review
                    ${i.sampleSessions.map((s) => html`<a href="/sessions/${encodeURIComponent(s)}">${s}</a> `)}</span
                  >`
                : html`<span class="tag good">allow</span>`,
            ]),
            "No database operations in this window.",
          )}
          <h2>Suggested policy</h2>
          <pre class="mono card">${policyYaml(id, suggestion, observed)}</pre>
          <h2>Against the declared policy</h2>
          ${
            agent?.policy === undefined
              ? html`<p class="muted">
                  No policy is declared: everything is allowed. The suggestion above would cut that to what was used.
                </p>`
              : html`<p>
                    Allowed but never used (cut):
                    ${Object.keys(diff.unused).flatMap((f) => list(f, diff.unused).map((v) => html`<span class="tag mono">${f}: ${v}</span>`))}
                  </p>
                  <p>
                    Used but not allowed:
                    ${Object.keys(diff.notAllowed).flatMap((f) => list(f, diff.notAllowed).map((v) => html`<span class="tag bad mono">${f}: ${v}</span>`))}
                  </p>`
          }
          <h2>Ready for production?</h2>
          <p>
            ${
              promotion.verdict.ready
                ? html`<span class="tag good">ready</span>`
                : html`<span class="tag bad">not ready</span> ${promotion.verdict.reasons.join("; ")}`
            }
          </p>`,
      ),
    );
  });

  ui.get("/agents/:id/activity", auth, async (c) => {
    const id = c.req.param("id");
    const since = c.req.query("since") ?? "1h";
    const fromMs = parseSince(since, Date.now()) ?? Date.now() - 3_600_000;
    const actions = await findAgentActions(client, id, {
      fromNs: ns(fromMs),
      toNs: ns(Date.now() + 60_000),
      limit: 500,
    });
    const [causes, alerts] = await Promise.all([
      causingInputs(client, id, actions),
      findAlerts(client, { agentId: id, sinceMs: fromMs - 1, limit: 1000 }),
    ]);
    const bySpan = alertsBySpan(alerts);
    return c.html(
      page(
        `${id}: activity`,
        c.get("caller"),
        html`<h1>What ${id} did since ${since}</h1>
          <form class="filters" method="get">
            <label>Since<input name="since" value="${since}" size="6" /></label><button type="submit">Show</button>
          </form>
          ${actions.length === 0 ? html`<p class="muted">No actions in this window.</p>` : actions.map((s) => actionRow(s, causes.get(s.spanId)?.input, bySpan.get(s.spanId) ?? []))}`,
      ),
    );
  });

  ui.get("/sessions", auth, async (c) => {
    const q = c.req.query();
    const fromMs = parseSince(q.since ?? "24h", Date.now()) ?? Date.now() - 86_400_000;
    const rows = await listSessions(client, {
      agentId: q.agent || undefined,
      fromNs: ns(fromMs),
      toNs: ns(Date.now() + 60_000),
      hasAlerts: q.has_alerts === "on" ? true : undefined,
      text: q.q || undefined,
      limit: 200,
    });
    return c.html(
      page(
        "Sessions",
        c.get("caller"),
        html`<h1>Sessions</h1>
          <form class="filters" method="get">
            <label>Agent<input name="agent" value="${q.agent ?? ""}" /></label
            ><label>Text<input name="q" value="${q.q ?? ""}" /></label>
            <label>Since<input name="since" value="${q.since ?? "24h"}" size="6" /></label
            ><label
              ><span>With alerts</span
              ><input type="checkbox" name="has_alerts" ${q.has_alerts === "on" ? "checked" : ""} /></label
            ><button type="submit">Filter</button>
          </form>
          ${dataTable(
            [
              { label: "Session", mono: true },
              { label: "Agent" },
              { label: "Start" },
              { label: "Spans" },
              { label: "Alerts" },
            ],
            rows.map((s) => [
              html`<a href="/sessions/${encodeURIComponent(s.sessionId)}">${s.sessionId}</a>`,
              s.agentId,
              nsToIso(s.startNs),
              s.spans,
              s.alerts > 0 ? html`<span class="tag bad">${s.alerts}</span>` : "0",
            ]),
            "No sessions.",
          )}`,
      ),
    );
  });

  // The session timeline: a waterfall of steps, the causing input beside each action.
  ui.get("/sessions/:id", auth, async (c) => {
    const id = c.req.param("id");
    const spans = await findSession(client, id);
    if (spans.length === 0) return c.html(page("Not found", c.get("caller"), html`<h1>No such session</h1>`), 404);
    const agents = [...new Set(spans.map((s) => s.agentId))];
    const alerts = (await Promise.all(agents.map((a) => findAlerts(client, { agentId: a, limit: 1000 }))))
      .flat()
      .filter((a) => a.sessionId === id);
    const causes = new Map<string, string>();
    for (const a of agents)
      for (const [k, v] of await causingInputs(
        client,
        a,
        spans.filter((s) => s.agentId === a),
      ))
        causes.set(k, v.input);
    const start = msOf(spans[0]?.startTimeUnixNano as string);
    const end = Math.max(...spans.map((s) => msOf(s.endTimeUnixNano)));
    const span = Math.max(1, end - start);
    const bySpan = alertsBySpan(alerts);
    const depth = depthOf(spans);
    const { observed, records } = await sessionDatabaseSide(client, deps.config, spans);
    return c.html(
      page(
        `Session ${id}`,
        c.get("caller"),
        html`<h1>Session <span class="mono">${id}</span></h1>
          <p>
            ${agents.map((a) => html`<a href="/agents/${a}">${a}</a> `)}· ${spans.length} steps ·
            ${nsToIso(spans[0]?.startTimeUnixNano as string)} · ${((end - start) / 1000).toFixed(1)} s
            ${alerts.length > 0 ? html` · <span class="tag bad">${alerts.length} alert(s)</span>` : ""}
          </p>
          ${
            agents.length > 1
              ? html`<p class="tag bad" data-role="shared-session">
                  ${agents.length} agents sent steps under this session id: each step names its agent. An agent's
                  approvals count only for its own steps.
                </p>`
              : ""
          }
          <section aria-label="Timeline">
            ${spans.map((s) => {
              const isAction = actionSummary(s) !== s.name || s.facts.destructive;
              const mine = bySpan.get(s.spanId) ?? [];
              const left = ((msOf(s.startTimeUnixNano) - start) / span) * 100;
              const width = Math.max(0.3, ((msOf(s.endTimeUnixNano) - msOf(s.startTimeUnixNano)) / span) * 100);
              return html`<div
                class="step${s.facts.destructive ? " destructive" : ""}${mine.length > 0 ? " alerting" : ""}"
                data-span="${s.spanId}"
              >
                <div style="padding-left:${depth.get(s.spanId) ?? 0}rem">
                  <strong>${s.name}</strong>
                  ${agents.length > 1 ? html` <span class="tag" data-role="agent">${s.agentId}</span>` : ""}
                  ${s.logRecord === true ? html` <span class="tag" data-role="log-record" title="An OTLP log record the agent sent, shown under the span it was emitted in">log record</span>` : ""}
                  ${s.sessionFromTrace === true ? html` <span class="tag" data-role="session-from-trace" title="The agent named no session on this step; its trace's root did">session via its trace</span>` : ""}
                  ${s.facts.destructive ? html` <span class="tag bad">destructive: ${s.facts.destructiveReason}</span>` : ""}
                  ${s.facts.approvalStatus ? html` <span class="tag ${s.facts.approvalStatus === "approved" ? "good" : "bad"}">approval ${s.facts.approvalStatus}</span>` : ""}
                  ${observed.has(s.spanId) ? html` <span class="tag ${observed.get(s.spanId) === "matched" ? "good" : "bad"}" data-role="observed">database: ${observed.get(s.spanId) === "matched" ? "seen" : "never saw it"}</span>` : ""}
                  <div class="lane" aria-hidden="true">
                    <div class="bar" style="margin-left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></div>
                  </div>
                  <span class="muted"
                    >${nsToIso(s.startTimeUnixNano)} · ${(Number(BigInt(s.durationNs) / 1000n) / 1000).toFixed(1)}
                    ms</span
                  >
                </div>
                <div>
                  ${isAction ? html`<div>${actionSummary(s)}</div>` : ""}
                  ${isAction && causes.get(s.spanId) ? html`<div class="input" data-role="cause"><span class="muted">Caused by:</span> ${causes.get(s.spanId)}</div>` : !isAction && s.facts.input ? html`<div class="input">${s.facts.input}</div>` : ""}
                  ${mine.map((a) => html`<div>${severity(a.severity)} <a href="/alerts/${a.alertId}">${a.summary}</a></div>`)}
                </div>
              </div>`;
            })}
          </section>
          ${
            records.length === 0
              ? ""
              : html`<h2>What the databases logged meanwhile</h2>
                  ${dataTable(
                    [
                      { label: "Time" },
                      { label: "Database user" },
                      { label: "Statement", mono: true },
                      { label: "Reported by the agent" },
                    ],
                    records.map((r) => [
                      r.time,
                      `${r.databaseUser} (${r.source})`,
                      r.statement || r.command,
                      r.reportedBy === null
                        ? html`<span class="tag bad" data-role="unreported">no span reported it</span>`
                        : r.reportedBy.sessionId === id
                          ? html`<span class="tag good">this session</span>`
                          : html`<a href="/sessions/${encodeURIComponent(r.reportedBy.sessionId)}">another session</a>`,
                    ]),
                    "",
                  )}`
          }`,
      ),
    );
  });

  ui.get("/integrity", auth, async (c) => {
    const report = await verifyStore(client, deps.ledgerKey(), { spansRetentionDays: deps.config.retention.spans });
    return c.html(
      page(
        "Integrity",
        c.get("caller"),
        html`<h1>Integrity</h1>
          <div class="card">
            <p>
              ${report.ok ? html`<span class="tag good">intact</span> Every stored batch matches the ledger and the signed checkpoints.` : html`<span class="tag bad">problems found</span>`}
            </p>
            <pre class="mono">${JSON.stringify(report, null, 2)}</pre>
          </div>`,
      ),
    );
  });

  app.route("/", ui);
  return app;
}

function actionRow(s: StoredSpan, cause: string | undefined, alerts: readonly Alert[]) {
  return html`<div class="step${s.facts.destructive ? " destructive" : ""}${alerts.length > 0 ? " alerting" : ""}">
    <div>
      <strong>${actionSummary(s)}</strong><br /><span class="muted">${nsToIso(s.startTimeUnixNano)}</span>
      ${s.sessionId ? html` · <a href="/sessions/${encodeURIComponent(s.sessionId)}">session</a>` : ""}
    </div>
    <div>
      ${cause ? html`<div class="input" data-role="cause"><span class="muted">Caused by:</span> ${cause}</div>` : html`<span class="muted">No input found in its causal chain.</span>`}
      ${alerts.map((a) => html`<div>${severity(a.severity)} <a href="/alerts/${a.alertId}">${a.summary}</a></div>`)}
    </div>
  </div>`;
}

/** Nesting depth of each span in its trace (for indentation in the timeline). */
function depthOf(spans: readonly StoredSpan[]): Map<string, number> {
  const parent = new Map(spans.map((s) => [s.spanId, s.parentSpanId]));
  const depth = new Map<string, number>();
  for (const s of spans) {
    let d = 0;
    for (let p = s.parentSpanId; p !== "" && parent.has(p) && d < 20; p = parent.get(p) ?? "") d++;
    depth.set(s.spanId, d);
  }
  return depth;
}
