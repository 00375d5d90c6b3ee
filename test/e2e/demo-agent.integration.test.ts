import { afterAll, beforeAll, expect, it } from "vitest";
import { startVigilAgent } from "@vigil/agent-sdk";
import type { VigilAgent } from "@vigil/agent-sdk";
import { handleTicket, tickets } from "@vigil/service-demo-agent";
import { findSession } from "@vigil/store";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
let agent: VigilAgent;
beforeAll(async () => {
  h = await startVigil(["demo"]);
  agent = startVigilAgent({
    agentId: "demo",
    token: h.tokens.demo as string,
    endpoint: h.ingestUrl,
    environment: "production",
  });
});
afterAll(async () => {
  await agent.shutdown();
  await h.stop();
});

it("the demo agent's sessions arrive with their facts: inputs, tables, credentials, approvals, hand-offs", async () => {
  const work = tickets(12);
  for (const ticket of work) await handleTicket(agent, ticket);
  await agent.forceFlush();

  const refund = work.find((t) => t.wantsRefund);
  const billing = work.find((t) => t.needsBilling);
  expect(refund).toBeDefined();
  expect(billing).toBeDefined();

  const refundSpans = await findSession(h.vigil.client, `ticket-${refund?.id}`);
  const facts = refundSpans.map((s) => s.facts);
  expect(facts.find((f) => f.operation === "chat")?.input).toContain(`Ticket #${refund?.id}`);
  expect(facts.find((f) => f.approvalStatus === "approved")?.approvalId).toBe(`appr-${refund?.id}`);
  expect(facts.find((f) => f.outboundHost === "api.stripe.com")?.credentialId).toBe("cred-stripe-refunds");
  expect(facts.find((f) => f.dbOperation === "UPDATE")?.dbTablesWritten).toEqual(["orders"]);
  expect(facts.every((f) => f.environment === "production" && f.claimedAgent === "demo")).toBe(true);

  const billingSpans = await findSession(h.vigil.client, `ticket-${billing?.id}`);
  expect(billingSpans.map((s) => s.facts.peerAgent)).toContain("billing-bot");
});
