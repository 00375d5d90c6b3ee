import type { Alert, BaselineSnapshot, StoredSpan } from "@vigil/store";

/** Nanoseconds (decimal string) → ISO 8601 with milliseconds. */
export function isoOfNs(ns: string): string {
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
}

const KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"];

/** What an action did, in a few words: "DELETE on customers", "call to api.stripe.com". */
export function actionSummary(s: StoredSpan): string {
  const f = s.facts;
  const parts: string[] = [];
  if (f.tool !== "") parts.push(`tool ${f.tool}`);
  if (f.dbOperation !== "")
    parts.push(`${f.dbOperation}${f.dbTables.length > 0 ? ` on ${f.dbTables.join(", ")}` : ""}`);
  if (f.outboundHost !== "" && s.kind === 3) parts.push(`call to ${f.outboundHost}`);
  if (f.peerAgent !== "") parts.push(`call to agent ${f.peerAgent}`);
  if (f.credentialId !== "") parts.push(`with credential ${f.credentialId}`);
  return parts.length > 0 ? parts.join(", ") : s.name;
}

/** A span as the API shows a step: identity, timing, facts; attributes (already redacted) on request. */
export function stepView(s: StoredSpan, withAttributes: boolean): Record<string, unknown> {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    agentId: s.agentId,
    sessionId: s.sessionId,
    // The agent named no session on this step: it is its trace's (set on another span of it).
    ...(s.sessionFromTrace === true ? { sessionFromTrace: true } : {}),
    // An OTLP log record the agent sent, stored under the span it was emitted in.
    ...(s.logRecord === true ? { logRecord: true } : {}),
    name: s.name,
    kind: KINDS[s.kind] ?? String(s.kind),
    start: isoOfNs(s.startTimeUnixNano),
    startNs: s.startTimeUnixNano,
    durationMs: Number(BigInt(s.durationNs) / 1000n) / 1000,
    status: s.statusCode === 2 ? "error" : s.statusCode === 1 ? "ok" : "unset",
    statusMessage: s.statusMessage,
    action: actionSummary(s),
    facts: s.facts,
    redactions: s.integrity.redactions.map((r) => ({ rule: r.rule, location: r.location })),
    impersonated: s.integrity.impersonatedAgent,
    ...(withAttributes ? { attributes: s.attributes, events: s.events } : {}),
  };
}

/** Steps as a tree by parent span id (orphans, whose parent is elsewhere, are roots). */
export function stepTree(
  spans: readonly StoredSpan[],
  alertsBySpan: ReadonlyMap<string, Alert[]>,
  /** Per span id, what a database audit log says of the step (matched or discrepancy). */
  observed: ReadonlyMap<string, string> = new Map(),
): unknown[] {
  const nodes = new Map<string, Record<string, unknown> & { children: unknown[] }>();
  for (const s of spans)
    nodes.set(`${s.traceId}/${s.spanId}`, {
      ...stepView(s, true),
      observed: observed.get(s.spanId) ?? null,
      alerts: (alertsBySpan.get(s.spanId) ?? []).map(alertBrief),
      children: [],
    });
  const roots: unknown[] = [];
  for (const s of spans) {
    const node = nodes.get(`${s.traceId}/${s.spanId}`);
    const parent = s.parentSpanId === "" ? undefined : nodes.get(`${s.traceId}/${s.parentSpanId}`);
    if (parent !== undefined) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

export function alertBrief(a: Alert): Record<string, unknown> {
  return { id: a.alertId, detector: a.detector, severity: a.severity, score: a.score, summary: a.summary };
}

/** Alerts keyed by each span they name. */
export function alertsBySpan(alerts: readonly Alert[]): Map<string, Alert[]> {
  const out = new Map<string, Alert[]>();
  for (const a of alerts) for (const id of a.spanIds) out.set(id, [...(out.get(id) ?? []), a]);
  return out;
}

const pct = (n: number, total: number): string => `${total === 0 ? 0 : Math.round((100 * n) / total)}%`;

/** A baseline in words, for the agent page and the API: what this agent normally does. */
export function describeBaseline(b: BaselineSnapshot): string[] {
  const lines: string[] = [];
  const env = b.environment === "" ? "" : ` in ${b.environment}`;
  lines.push(
    `${b.agentId} has sent ${b.spans.toLocaleString("en-US")} spans${env} since ${isoOfNs(b.firstSeenNs).slice(0, 10)}; ` +
      (b.learning ? `its baseline is still ${b.learningReason}.` : "its baseline is learned."),
  );
  const top = (dimension: string, label: string, n = 5): void => {
    const values = b.dimensions[dimension] ?? [];
    if (values.length === 0) return;
    const total = values.reduce((a, v) => a + v.calls, 0);
    lines.push(
      `${label} (${values.length}): ${values
        .slice(0, n)
        .map((v) => `${v.value} ${pct(v.calls, total)}`)
        .join(", ")}${values.length > n ? ", …" : ""}.`,
    );
  };
  top("tool", "Tools");
  top("table_operation", "Table operations");
  top("credential", "Credentials");
  top("host", "Outbound hosts");
  top("peer", "Agents it calls");
  const active = b.hours.map((n, h) => ({ h, n })).filter((x) => x.n / Math.max(1, b.spans) >= 0.01);
  if (active.length > 0) {
    const share = active.reduce((a, x) => a + x.n, 0);
    lines.push(
      `Active hours (UTC): ${active.map((x) => String(x.h).padStart(2, "0")).join(", ")} hold ${pct(share, b.spans)} of its spans.`,
    );
  }
  return lines;
}
