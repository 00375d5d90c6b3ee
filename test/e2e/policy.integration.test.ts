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
