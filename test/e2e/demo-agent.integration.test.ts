import { afterAll, beforeAll, expect, it } from "vitest";
import { startVigilAgent } from "@vigil/agent-sdk";
import type { VigilAgent } from "@vigil/agent-sdk";
import { handleTicket, tickets } from "@vigil/service-demo-agent";
import { findSession } from "@vigil/store";
import { generateToken, sha256Hex } from "@vigil/config";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
let agent: VigilAgent;
const token = generateToken();
beforeAll(async () => {
  // The demo agent as the first start declares it: refunds go through the gate.
  h = await startVigil([], {
    agentsYaml: `agents:\n  - id: demo\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n    policy: {destructive_tools: [refund_order]}\n`,
  });
  agent = startVigilAgent({
    agentId: "demo",
    token,
    endpoint: h.ingestUrl,
    environment: "production",
  });
});
afterAll(async () => {
  await agent.shutdown();
  await h.stop();
});

it("the demo agent's sessions arrive with their facts: inputs, tables, credentials, gated refunds, hand-offs", async () => {
  const work = tickets(12);
  const outcomes: string[] = [];
  // A person at the console: approves refunds, denies the DROP.
  const decide = (id: string, rendering: string) =>
    void apiCall(h, `/api/decisions/${id}/${rendering.includes("DROP") ? "deny" : "approve"}`, h.apiKeys.admin, {
      method: "POST",
      body: {
        justification: rendering.includes("DROP") ? "the archive is kept for audits" : "duplicate charge confirmed",
      },
    });
  for (const ticket of work)
    await handleTicket(agent, ticket, {
      onPending: decide,
      onOutcome: (l) => outcomes.push(l),
      approvalWaitMs: 20_000,
    });
  await agent.forceFlush();
  expect(outcomes.filter((o) => o.includes("refund approved and run")).length).toBeGreaterThan(0);
  expect(outcomes.some((o) => o.includes("DROP TABLE orders_archive not run (denied)"))).toBe(true);

  const refund = work.find((t) => t.wantsRefund);
  const billing = work.find((t) => t.needsBilling);
  expect(refund).toBeDefined();
  expect(billing).toBeDefined();

  const refundSpans = await findSession(h.vigil.client, `ticket-${refund?.id}`);
  const facts = refundSpans.map((s) => s.facts);
  expect(facts.find((f) => f.operation === "chat")?.input).toContain(`Ticket #${refund?.id}`);
  // The refund's tool span carries the approval Vigil signed, verified at ingest.
  expect(facts.find((f) => f.tool === "refund_order")?.approvalStatus).toBe("verified");
  expect(facts.find((f) => f.outboundHost === "api.stripe.com")?.credentialId).toBe("cred-stripe-refunds");
  expect(facts.find((f) => f.dbOperation === "UPDATE")?.dbTablesWritten).toEqual(["orders"]);
  expect(facts.every((f) => f.environment === "production" && f.claimedAgent === "demo")).toBe(true);

  // The denied DROP never ran: no span of it, only the gate's record.
  const dropped = await h.vigil.client.query({
    query: "SELECT count() AS n FROM spans WHERE attributes LIKE '%DROP TABLE orders_archive%'",
    format: "JSONEachRow",
  });
  expect((await dropped.json<{ n: string | number }>()).map((r) => Number(r.n))).toEqual([0]);

  const billingSpans = await findSession(h.vigil.client, `ticket-${billing?.id}`);
  expect(billingSpans.map((s) => s.facts.peerAgent)).toContain("billing-bot");
});
