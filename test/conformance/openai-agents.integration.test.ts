import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { context } from "@opentelemetry/api";
import * as agents from "@openai/agents";
import { OpenAIAgentsInstrumentation } from "@arizeai/openinference-instrumentation-openai-agents";
import { setSession } from "@arizeai/openinference-core";
import { startConformance } from "../support/conformance";
import type { Conformance } from "../support/conformance";
import { recordConformanceRow } from "../support/conformance-table";

/**
 * Conformance: the OpenAI Agents SDK (`@openai/agents` 0.20.0) traced through
 * OpenInference's processor (`@arizeai/openinference-instrumentation-openai-agents`
 * 0.2.15, pinned), on the Chat Completions API of a fake model on 127.0.0.1. A triage
 * agent hands the conversation to a billing agent: the processor writes the hand-off as
 * a TOOL span ("handoff to billing_agent") and the billing agent as an AGENT span. The
 * hand-off must read as a call to that agent (its peer), not as a tool, so that
 * `new_peer_agent` and `policy.peers` see it, and no display name may read as an
 * impersonation. Learning is off here (0 days, 0 spans), so a first peer alerts at once.
 */
let c: Conformance;

beforeAll(async () => {
  c = await startConformance(
    "    policy:\n      tools: [lookup_invoice]\n      peers: [billing_agent]\n",
    "detection:\n  learning_days: 0\n  learning_min_spans: 0\n  call_volume_floor: 50\n",
  );
  process.env.OPENAI_BASE_URL = c.model.baseUrl;
  agents.setDefaultOpenAIKey("test-key");
  agents.setOpenAIAPI("chat_completions");
  // The SDK turns its tracing off when NODE_ENV is "test" (vitest sets it); an application runs with it on.
  agents.setTracingDisabled(false);
  new OpenAIAgentsInstrumentation({ tracerProvider: c.provider }).manuallyInstrument(agents);
}, 120_000);

afterAll(async () => {
  delete process.env.OPENAI_BASE_URL;
  await c?.stop();
});

/** A triage agent that may hand over to `to`; the model asks for the hand-off, then answers. */
async function triage(sessionId: string, to: string): Promise<void> {
  const specialist = new agents.Agent({ name: to, instructions: "Resolve the customer's issue." });
  const agent = new agents.Agent({
    name: "triage_agent",
    instructions: "Hand billing questions to the specialist.",
    handoffs: [specialist],
  });
  c.model.script([{ toolCalls: [{ name: `transfer_to_${to}`, arguments: {} }] }, { text: "Refund issued." }]);
  await context.with(setSession(context.active(), { sessionId }), () =>
    agents.run(agent, "I was charged twice for invoice 77."),
  );
  await c.provider.forceFlush();
}

describe("OpenAI Agents SDK (OpenInference processor)", () => {
  it("reads a hand-off as a call to the agent it hands to, and raises new_peer_agent for a first one", async () => {
    await triage("ticket-9001", "billing_agent");
    const spans = await c.stored("ticket-9001", 4);
    const handoff = spans.find((s) => s.name === "handoff to billing_agent");
    expect(handoff?.facts).toMatchObject({ operation: "invoke_agent", tool: "", peerAgent: "billing_agent" });
    expect(spans.filter((s) => s.facts.operation === "chat").length).toBeGreaterThanOrEqual(2);
    // The agents' own spans are no calls: only the hand-off is.
    expect(spans.filter((s) => s.facts.peerAgent !== "").map((s) => s.name)).toEqual(["handoff to billing_agent"]);
    const alert = await c.alertOf("new_peer_agent", "ticket-9001");
    expect(alert.summary).toContain("billing_agent");
    // The agents' display names are no identity claims.
    expect(spans.every((s) => s.integrity.impersonatedAgent === "")).toBe(true);
  });

  it("raises policy_violation for a hand-off to an agent outside the declared peers", async () => {
    await triage("ticket-9002", "refunds_agent");
    expect((await c.alertOf("policy_violation", "ticket-9002")).summary).toContain("refunds_agent");
  });

  it("reads every fact the library emits (the conformance table's row)", async () => {
    const row = await recordConformanceRow(c, "OpenAI Agents 0.20.0 + OpenInference processor 0.2.15", [
      "session",
      "operation",
      "input",
      "peer",
    ]);
    expect(row.missed).toEqual([]);
  });
});
