import type { SqlRequest, RequestBody } from "@vigil/api-contract";
import { apiRequest } from "../api-client";
import type { ApiTarget } from "../api-client";
import { table } from "../table";

type Print = (s: string) => void;
const when = (iso: string): string => iso.replace("T", " ").slice(0, 19);
const qs = (params: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") search.set(k, String(v));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
};
const cut = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

interface Action {
  start: string;
  spanId: string;
  sessionId: string;
  action: string;
  cause: { input: string } | null;
  alerts: Array<{ severity: string; detector: string }>;
}

/** `vigil activity <agent>`: what it did, each action with the input that caused it. Follows every page. */
export async function activityCommand(
  target: ApiTarget,
  agent: string,
  o: { since: string; json?: boolean },
  print: Print,
): Promise<number> {
  const actions: Action[] = [];
  let cursor: string | null = null;
  do {
    const page: { actions: Action[]; nextCursor: string | null } = await apiRequest(
      target,
      `/api/agents/${encodeURIComponent(agent)}/activity${qs({ since: o.since, limit: 1000, cursor: cursor ?? undefined })}`,
    );
    actions.push(...page.actions);
    cursor = page.nextCursor;
  } while (cursor !== null);
  if (o.json === true) print(JSON.stringify(actions, null, 2));
  else if (actions.length === 0) print(`${agent} did nothing in the last ${o.since}`);
  else
    print(
      table(
        ["TIME", "ACTION", "CAUSED BY", "ALERTS", "SESSION"],
        actions.map((a) => [
          when(a.start),
          cut(a.action, 60),
          a.cause === null ? "-" : cut(a.cause.input.replace(/\s+/g, " "), 60),
          a.alerts.map((x) => `${x.severity}:${x.detector}`).join(",") || "-",
          a.sessionId || "-",
        ]),
      ),
    );
  return 0;
}

interface SessionRow {
  sessionId: string;
  agentId: string;
  start: string;
  spans: number;
  alerts: number;
}

export async function sessionsCommand(
  target: ApiTarget,
  o: { agent?: string; since: string; alerts?: boolean; text?: string; limit: string; json?: boolean },
  print: Print,
): Promise<number> {
  const { sessions } = await apiRequest<{ sessions: SessionRow[] }>(
    target,
    `/api/sessions${qs({ agent: o.agent, since: o.since, has_alerts: o.alerts === true ? "true" : undefined, q: o.text, limit: o.limit })}`,
  );
  if (o.json === true) print(JSON.stringify(sessions, null, 2));
  else if (sessions.length === 0) print("no sessions");
  else
    print(
      table(
        ["SESSION", "AGENT", "START", "SPANS", "ALERTS"],
        sessions.map((s) => [s.sessionId, s.agentId, when(s.start), String(s.spans), String(s.alerts)]),
      ),
    );
  return 0;
}

interface Step {
  name: string;
  start: string;
  action: string;
  facts: { destructive: boolean; destructiveReason: string; input: string; approvalStatus: string };
  alerts: Array<{ severity: string; summary: string }>;
  children: Step[];
}

export async function sessionCommand(
  target: ApiTarget,
  id: string,
  o: { json?: boolean },
  print: Print,
): Promise<number> {
  const s = await apiRequest<{ sessionId: string; agents: string[]; start: string; spans: number; steps: Step[] }>(
    target,
    `/api/sessions/${encodeURIComponent(id)}`,
  );
  if (o.json === true) {
    print(JSON.stringify(s, null, 2));
    return 0;
  }
  print(`session ${s.sessionId} · ${s.agents.join(", ")} · ${s.spans} steps from ${when(s.start)}`);
  const walk = (steps: Step[], depth: number): void => {
    for (const st of steps) {
      const marks = [
        st.facts.destructive ? `DESTRUCTIVE (${st.facts.destructiveReason})` : "",
        st.facts.approvalStatus ? `approval ${st.facts.approvalStatus}` : "",
        ...st.alerts.map((a) => `ALERT ${a.severity}: ${a.summary}`),
      ].filter((m) => m !== "");
      print(`${when(st.start)}  ${"  ".repeat(depth)}${st.action === st.name ? st.name : `${st.name}: ${st.action}`}`);
      if (st.facts.input !== "")
        print(`${" ".repeat(21)}${"  ".repeat(depth)}  input: ${cut(st.facts.input.replace(/\s+/g, " "), 100)}`);
      for (const m of marks) print(`${" ".repeat(21)}${"  ".repeat(depth)}  ${m}`);
      walk(st.children, depth + 1);
    }
  };
  walk(s.steps, 0);
  return 0;
}

interface AlertRow {
  alertId: string;
  createdAtMs: number;
  eventTimeNs: string;
  severity: string;
  detector: string;
  agentId: string;
  summary: string;
}

interface AlertGroup {
  agentId: string;
  detector: string;
  count: number;
  latest: AlertRow;
}

/**
 * `vigil alerts`: newest raised first, paged (`--cursor`, printed at the end of a full
 * page). First-time-activity alerts are collapsed per agent and detector unless `--all`,
 * so a flood of them cannot hide a rule's alert. Both times are shown: when Vigil raised
 * the alert, and the event time the agent stated.
 */
export async function alertsCommand(
  target: ApiTarget,
  o: {
    agent?: string;
    detector?: string;
    severity?: string;
    since: string;
    limit: string;
    cursor?: string;
    all?: boolean;
    json?: boolean;
  },
  print: Print,
): Promise<number> {
  const page = await apiRequest<{ alerts: AlertRow[]; firstTime?: AlertGroup[]; nextCursor?: string }>(
    target,
    `/api/alerts${qs({
      agent: o.agent,
      detector: o.detector,
      severity: o.severity,
      since: o.since,
      limit: o.limit,
      cursor: o.cursor,
      collapse: o.all === true || o.detector !== undefined ? undefined : "first-time",
    })}`,
  );
  const { alerts } = page;
  if (o.json === true) {
    print(JSON.stringify(page, null, 2));
    return 0;
  }
  const groups = page.firstTime ?? [];
  if (groups.length > 0)
    print(
      `first-time activity (collapsed; --all lists each):\n${table(
        ["AGENT", "DETECTOR", "ALERTS", "LATEST"],
        groups.map((g) => [g.agentId, g.detector, String(g.count), cut(g.latest.summary, 80)]),
      )}\n`,
    );
  if (alerts.length === 0) print(groups.length > 0 ? "no other alerts" : "no alerts");
  else
    print(
      table(
        ["ID", "RAISED", "EVENT TIME", "SEVERITY", "DETECTOR", "AGENT", "SUMMARY"],
        alerts.map((a) => {
          const eventMs = Number(BigInt(a.eventTimeNs) / 1_000_000n);
          const mark =
            eventMs < a.createdAtMs - 3_600_000 ? " (backdated)" : eventMs > a.createdAtMs + 300_000 ? " (future)" : "";
          return [
            a.alertId,
            when(new Date(a.createdAtMs).toISOString()),
            `${when(new Date(eventMs).toISOString())}${mark}`,
            a.severity,
            a.detector,
            a.agentId,
            cut(a.summary, 80),
          ];
        }),
      ),
    );
  if (page.nextCursor !== undefined) print(`more: vigil alerts --cursor ${page.nextCursor}`);
  return 0;
}

export async function baselinesRebuildCommand(target: ApiTarget, print: Print): Promise<number> {
  const r = await apiRequest<{
    status: string;
    agents?: number;
    learning?: number;
    durationMs?: number;
    jobId?: string;
  }>(target, "/api/baselines/rebuild", { method: "POST" });
  print(
    r.status === "done"
      ? `rebuilt ${r.agents ?? 0} baseline(s), one per agent and environment; ${r.learning ?? 0} still learning; ${r.durationMs ?? 0} ms`
      : `baseline rebuild queued (job ${r.jobId ?? "?"})`,
  );
  return 0;
}

export async function sqlCommand(target: ApiTarget, sql: string, o: { json?: boolean }, print: Print): Promise<number> {
  const r = await apiRequest<{ rows: Array<Record<string, unknown>>; truncated: boolean; elapsedMs: number }>(
    target,
    "/api/sql",
    {
      method: "POST",
      body: { sql } satisfies RequestBody<typeof SqlRequest>,
    },
  );
  if (o.json === true) print(JSON.stringify(r.rows, null, 2));
  else {
    const columns = Object.keys(r.rows[0] ?? {});
    if (columns.length > 0)
      print(
        table(
          columns,
          r.rows.map((row) =>
            columns.map((c) => (typeof row[c] === "string" ? (row[c] as string) : JSON.stringify(row[c]))),
          ),
        ),
      );
    print(`(${r.rows.length} row(s)${r.truncated ? ", truncated at the row limit" : ""}, ${r.elapsedMs} ms)`);
  }
  return 0;
}
