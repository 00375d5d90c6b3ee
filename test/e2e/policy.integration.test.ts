import { afterAll, beforeAll, expect, it } from "vitest";
import { generateToken, sha256Hex } from "@vigil/config";
import { findAlerts } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

const token = generateToken();
let h: Harness;
beforeAll(async () => {
  h = await startVigil([], {
    agentsYaml: `agents:
  - id: support-bot
    policy:
      tools: [lookup_ticket, reply]
      tables: [tickets]
      operations: [SELECT, UPDATE]
      hosts: [api.zendesk.example]
    tokens:
      - sha256: "${sha256Hex(token)}"
`,
    env: { VIGIL_DETECT_INTERVAL_SECONDS: "3600" },
  });
});
afterAll(async () => {
  await h.stop();
});

async function send(traceByte: string, attrs: Record<string, string>, kind = 1): Promise<void> {
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: jsonTraceRequest([{ traceId: traceByte.repeat(16), kind, attrs }]),
  });
  expect(res.status).toBe(200);
}

it("a declared policy alerts the first step outside it, with no learning period, and not the steps inside it", async () => {
  await send("a1", { "gen_ai.tool.name": "lookup_ticket", "db.query.text": "SELECT * FROM tickets WHERE id = 1" });
  await send("a2", { "gen_ai.tool.name": "reply", "url.full": "https://api.zendesk.example/v2/reply" }, 3);
  await send("a3", { "gen_ai.tool.name": "lookup_ticket", "db.query.text": "DELETE FROM users WHERE id = 7" });
  await send("a4", { "gen_ai.tool.name": "export_all", "url.full": "https://paste.example/new" }, 3);
  await h.vigil.ingest.drain();
  await h.vigil.detection.trigger();
  const alerts = await findAlerts(h.vigil.client, { detector: "policy_violation" });
  const byTrace = Object.fromEntries(alerts.map((a) => [a.traceId.slice(0, 2), a.evidence.breaches]));
  expect(Object.keys(byTrace).sort()).toEqual(["a3", "a4"]);
  expect(byTrace.a3).toEqual(["table users is not allowed", "operation DELETE is not allowed"]);
  expect(byTrace.a4).toEqual(["tool export_all is not allowed", "host paste.example is not allowed"]);
});

it("fails closed: under an allow-list, a step whose tool, tables or host cannot be read alerts, beside readable honest steps", async () => {
  // A tool span with no tool name (a library that does not send gen_ai.tool.name).
  await send("b1", { "gen_ai.operation.name": "execute_tool", "input.value": "{}" });
  // A database span with no statement to read tables from.
  await send("b2", { "db.system.name": "postgresql", "db.operation.name": "EXECUTE" }, 3);
  // An outbound call without a host (old HTTP conventions Vigil could not read).
  await send("b3", { "http.method": "POST" }, 3);
  // Honest, readable steps: no alert.
  await send("b4", { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "reply" });
  await send("b5", { "db.system.name": "postgresql", "db.query.text": "SELECT 1" }, 3);
  await h.vigil.ingest.drain();
  await h.vigil.detection.trigger();
  const alerts = await findAlerts(h.vigil.client, { detector: "policy_violation", limit: 100 });
  const byTrace = Object.fromEntries(
    alerts.filter((a) => a.traceId.startsWith("b")).map((a) => [a.traceId.slice(0, 2), a.evidence.breaches]),
  );
  expect(byTrace).toEqual({
    b1: ["a tool step whose tool could not be identified"],
    b2: ["a database step whose tables could not be identified", "operation EXECUTE is not allowed"],
    b3: ["an outbound call whose host could not be identified"],
  });
});
