import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateToken, sha256Hex } from "@vigil/config";
import { findAlerts } from "@vigil/store";
import { jsonTraceRequest } from "../../support/otlp-json";
import { importHistory, importUrl, startVigil } from "../../support/vigil-harness";
import type { Harness } from "../../support/vigil-harness";
import { apiCall } from "../../support/vigil-harness";

/**
 * Environment hopping: the environment comes from the span, so an agent could name a new
 * one ("prod-2") and get a fresh profile in which every learned detector was silent: a
 * tool it never used raised nothing. Now an agent that declares no environments is
 * judged by one profile across all of them, and its first step in a new environment is
 * an alert; an agent that declares its environments has spans of any other refused.
 * Honest controls beside each: the same agent's known work in its usual environment
 * raises nothing, and a declared environment is accepted.
 */
const DAY = 86_400_000;
const tokens = {
  hopper: generateToken(),
  fenced: generateToken(),
  steady: generateToken(),
  dater: generateToken(),
  poser: generateToken(),
};
let h: Harness;

const requestOf = (agent: keyof typeof tokens, spans: Array<{ at: number; env: string; tool: string }>) =>
  jsonTraceRequest(
    spans.map((s, i) => ({
      traceId: `${agent.length.toString(16)}${(s.at + i).toString(16)}`.padStart(32, "0"),
      startNs: BigInt(s.at) * 1_000_000n + BigInt(i),
      attrs: { "gen_ai.tool.name": s.tool, "deployment.environment.name": s.env, "session.id": `${agent}-${s.env}` },
    })),
  );

const send = (agent: keyof typeof tokens, spans: Array<{ at: number; env: string; tool: string }>) =>
  fetch(h.ingestUrl, {
    method: "POST",
    body: requestOf(agent, spans),
    headers: { "content-type": "application/json", authorization: `Bearer ${tokens[agent]}` },
  }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { partialSuccess?: { rejectedSpans?: string; errorMessage?: string } },
  }));

/** Ten days of ordinary work in production: enough history to end learning. */
const history = (from: number) =>
  Array.from({ length: 240 }, (_, i) => ({
    at: from + i * 3_600_000,
    env: "production",
    tool: i % 2 === 0 ? "lookup" : "reply",
  }));

beforeAll(async () => {
  const agent = (id: string, token: string, extra = "") =>
    `  - id: ${id}\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n${extra}`;
  h = await startVigil([], {
    agentsYaml:
      "agents:\n" +
      agent("hopper", tokens.hopper) +
      agent("fenced", tokens.fenced, "    environments: [production, staging]\n") +
      agent("steady", tokens.steady) +
      agent("dater", tokens.dater) +
      agent("poser", tokens.poser) +
      "detection:\n  learning_days: 3\n  learning_min_spans: 100\n",
    env: { VIGIL_DETECT_INTERVAL_SECONDS: "3600" },
  });
  const start = Date.now() - 11 * DAY;
  // Imported by an administrator: history an agent's token sends trains nothing (backfill).
  for (const a of ["hopper", "steady", "dater"] as const)
    expect(await importHistory(h, a, requestOf(a, history(start)))).toBe(200);
  await h.vigil.ingest.drain();
  await h.vigil.detection.trigger();
});

afterAll(async () => {
  await h?.stop();
});

// The suite's figures, for the notes (runs before the stop above: after-hooks run last
// registered first): the evasions that send data and what they raised, and the honest
// control's alerts over its ten days of history and the live steps.
afterAll(async () => {
  const all = await findAlerts(h.vigil.client, { limit: 1000 });
  const of = (agent: string) => new Set(all.filter((a) => a.agentId === agent).map((a) => a.detector));
  const caught = [
    ["environment hopping", of("hopper").has("new_environment")],
    ["backdating", of("dater").has("backdated_spans") && of("dater").has("new_tool")],
  ] as const;
  const honest = all.filter((a) => a.agentId === "steady").length;
  const agentWeeks = 11 / 7;
  console.log(
    `adversarial recall: ${caught.filter(([, c]) => c).length} of ${caught.length} evasions alerted ` +
      `(${caught.map(([n, c]) => `${n}: ${c ? "alerted" : "missed"}`).join(", ")}; an undeclared environment refused, ` +
      `self-sent history trained nothing); ${honest} alerts on the honest control over ${agentWeeks.toFixed(1)} agent-weeks`,
  );
});

// Days-old steps an agent sends itself are flagged (backdated_spans), the backdating
// case's subject: left out of what the other cases look at.
const alertsOf = async (agent: string) =>
  (await findAlerts(h.vigil.client, { agentId: agent, limit: 100 }))
    .filter((a) => a.detector !== "backdated_spans")
    .map((a) => `${a.detector}:${a.environment}`)
    .sort();

describe("environment hopping", () => {
  it("alerts the first step in a new environment, and a tool new to the agent there; the honest agent stays quiet", async () => {
    const now = Date.now() - 60_000;
    expect((await send("hopper", [{ at: now, env: "prod-2", tool: "exfil_tool" }])).status).toBe(200);
    expect((await send("steady", [{ at: now, env: "production", tool: "lookup" }])).status).toBe(200);
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();
    expect(await alertsOf("hopper")).toEqual(["new_environment:prod-2", "new_tool:prod-2"]);
    expect(await alertsOf("steady")).toEqual([]);
    // A tool the agent knows from production is not new in prod-2.
    expect((await send("hopper", [{ at: now + 1000, env: "prod-2", tool: "lookup" }])).status).toBe(200);
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();
    expect(await alertsOf("hopper")).toEqual(["new_environment:prod-2", "new_tool:prod-2"]);
  });

  it("refuses spans of an environment the agent does not declare, and takes the declared ones", async () => {
    const now = Date.now();
    const refused = await send("fenced", [{ at: now, env: "prod-2", tool: "lookup" }]);
    expect(refused.status).toBe(200);
    expect(refused.body.partialSuccess).toMatchObject({
      rejectedSpans: "1", // int64 as a string, as OTLP/JSON encodes it
      errorMessage: expect.stringContaining(
        'environment "prod-2" were sent by agent fenced, which declares only production, staging',
      ) as unknown,
    });
    const accepted = await send("fenced", [{ at: now, env: "staging", tool: "lookup" }]);
    expect(accepted.body.partialSuccess).toBeUndefined();
  });
});

describe("backdating", () => {
  it("flags a step dated into the past (a new tool sent 9.5 days back), which used to pass as old history", async () => {
    const before = new Set((await findAlerts(h.vigil.client, { agentId: "dater", limit: 100 })).map((a) => a.alertId));
    const backdatedAt = Date.now() - 9.5 * DAY;
    expect((await send("dater", [{ at: backdatedAt, env: "production", tool: "exfil_tool" }])).status).toBe(200);
    // The honest control: a live step with a known tool.
    expect((await send("steady", [{ at: Date.now() - 5_000, env: "production", tool: "reply" }])).status).toBe(200);
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();
    const fresh = (await findAlerts(h.vigil.client, { agentId: "dater", limit: 100 })).filter(
      (a) => !before.has(a.alertId),
    );
    expect(fresh.map((a) => a.detector)).toEqual(["backdated_spans"]);
    expect(fresh[0]?.evidence).toMatchObject({ spans: 1, tools: ["exfil_tool"] });
    expect(fresh[0]?.summary).toBe("dater sent 1 span(s) dated up to 9.5 days before Vigil received them");
    expect(await alertsOf("steady")).toEqual([]);

    // The backdated step made nothing "already seen": the tool's first live use is new.
    expect((await send("dater", [{ at: Date.now() - 2_000, env: "production", tool: "exfil_tool" }])).status).toBe(200);
    expect((await send("steady", [{ at: Date.now() - 2_000, env: "production", tool: "lookup" }])).status).toBe(200);
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();
    expect(await alertsOf("dater")).toEqual(["new_tool:production"]);
    expect(await alertsOf("steady")).toEqual([]);
  });

  it("keeps backdated steps out of learning: an agent whose only history is backdated is still learning", async () => {
    // A fresh agent sends ten days of "history" itself, then a tool never used.
    const { body } = await apiCall(h, "/api/baselines/rebuild", h.apiKeys.admin, { method: "POST" });
    expect(body).toMatchObject({ status: "done" });
    const start = Date.now() - 11 * DAY;
    expect((await send("poser", history(start))).status).toBe(200);
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();
    const rebuilt = await apiCall(h, "/api/baselines/rebuild", h.apiKeys.admin, { method: "POST" });
    expect(rebuilt.body).toMatchObject({ status: "done" });
    const baselines = await apiCall(h, "/api/baselines?agent=poser", h.apiKeys.reader);
    const [poser] = (baselines.body as { baselines: Array<{ learning: boolean; spans: number }> }).baselines;
    // Its own backdated steps trained nothing: no history, still learning.
    expect(poser?.learning ?? true).toBe(true);
  });

  it("imports history only with an admin key, for a declared agent; the import counts as history", async () => {
    const body = requestOf("poser", [{ at: Date.now() - 8 * DAY, env: "production", tool: "lookup" }]);
    const post = (agent: string, key: string) =>
      fetch(importUrl(h, agent), {
        method: "POST",
        body,
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      }).then(async (r) => ({ status: r.status, text: await r.text() }));
    // The attacker's options: its own token, a reader key, no key: all refused.
    for (const key of [tokens.poser, h.apiKeys.reader, "not-a-key"]) {
      const refused = await post("poser", key);
      expect(refused.status, key === tokens.poser ? "agent token" : key).toBe(401);
      expect(refused.text).toContain("admin API key");
    }
    expect((await post("nobody", h.apiKeys.admin)).status).toBe(400);
    // The honest import: stored as the agent's, not backfill, the admin key named in the row.
    expect((await post("poser", h.apiKeys.admin)).status).toBe(200);
    await h.vigil.ingest.drain();
    const rs = await h.vigil.client.query({
      query: `SELECT backfill, request_digest FROM spans WHERE agent_id = 'poser' AND tool = 'lookup'
              AND startsWith(request_digest, 'import:') LIMIT 1`,
      format: "JSONEachRow",
    });
    const [row] = await rs.json<{ backfill: boolean; request_digest: string }>();
    expect(row?.backfill).toBe(false);
    expect(row?.request_digest).toMatch(/^import:admin:[0-9a-f]{32}$/);
  });
});
