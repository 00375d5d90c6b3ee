import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpanKind, context, trace } from "@opentelemetry/api";
import type { Attributes } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { startVigilAgent } from "@vigil/agent-sdk";
import type { VigilAgent } from "@vigil/agent-sdk";
import { emptyFacts } from "@vigil/facts";
import type { SpanFacts } from "@vigil/facts";
import { findSession, findTrace } from "@vigil/store";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
let agent: VigilAgent;
beforeAll(async () => {
  h = await startVigil();
  agent = startVigilAgent({
    agentId: "support-bot",
    token: h.tokens["support-bot"] as string,
    endpoint: h.ingestUrl.replace("/v1/traces", ""),
    environment: "production",
  });
});
afterAll(async () => {
  await agent.shutdown();
  await h.stop();
});

const PROMPT = "Customer 1042 asks for a refund of order 77";
const SQL = "DELETE FROM refunds_pending r USING customers c WHERE r.customer_id = c.id AND c.id = $1";

/** The same agent session through the SDK helpers. */
async function sessionWithSdk(sessionId: string): Promise<void> {
  await agent.session(sessionId, async () => {
    await agent.modelCall({ model: "claude-sonnet-4-5", input: PROMPT }, async () => "plan");
    await agent.toolCall("refund_customer", { customer: 1042 }, async () => {
      await agent.dbQuery({ system: "postgresql", statement: SQL, credentialId: "cred-pg-support" }, async () => 1);
      await agent.httpCall(
        { method: "POST", url: "https://api.stripe.com/v1/refunds", credentialId: "cred-stripe" },
        async () => ({
          status: 200,
        }),
      );
    });
    await agent.callAgent({ agentId: "billing-bot", url: "http://billing.agents.internal/invoke" }, async () => "ok");
    agent.approval({ id: "appr-1", status: "approved", approver: "alice" });
  });
  await agent.forceFlush();
}

/** The same session written by hand with plain OpenTelemetry, following the conventions. */
async function sessionWithPlainOtel(sessionId: string): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "support-bot", "deployment.environment.name": "production" }),
    spanProcessors: [
      new SimpleSpanProcessor(
        new OTLPTraceExporter({ url: h.ingestUrl, headers: { Authorization: `Bearer ${h.tokens["support-bot"]}` } }),
      ),
    ],
  });
  const tracer = provider.getTracer("hand-written");
  const s = { "session.id": sessionId };
  const child = (name: string, kind: SpanKind, attributes: Attributes, parent = root): void => {
    tracer
      .startSpan(name, { kind, attributes: { ...s, ...attributes } }, trace.setSpan(context.active(), parent))
      .end();
  };
  const root = tracer.startSpan("invoke_agent support-bot", {
    kind: SpanKind.SERVER,
    attributes: { ...s, "gen_ai.operation.name": "invoke_agent" },
  });
  child("chat claude-sonnet-4-5", SpanKind.CLIENT, {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.input.messages": JSON.stringify([{ role: "user", parts: [{ type: "text", content: PROMPT }] }]),
  });
  const tool = tracer.startSpan(
    "execute_tool refund_customer",
    {
      attributes: {
        ...s,
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "refund_customer",
        "gen_ai.tool.call.arguments": '{"customer":1042}',
      },
    },
    trace.setSpan(context.active(), root),
  );
  child(
    "DELETE postgresql",
    SpanKind.CLIENT,
    {
      "db.system.name": "postgresql",
      "db.query.text": SQL,
      "db.operation.name": "DELETE",
      "vigil.credential.id": "cred-pg-support",
    },
    tool,
  );
  child(
    "POST",
    SpanKind.CLIENT,
    {
      "http.request.method": "POST",
      "url.full": "https://api.stripe.com/v1/refunds",
      "server.address": "api.stripe.com",
      "vigil.credential.id": "cred-stripe",
    },
    tool,
  );
  tool.end();
  child("invoke_agent billing-bot", SpanKind.CLIENT, {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.id": "billing-bot",
    "server.address": "billing.agents.internal",
  });
  child("approval appr-1", SpanKind.INTERNAL, { "vigil.approval.id": "appr-1", "vigil.approval.status": "approved" });
  root.end();
  await provider.shutdown();
}

function factsByName(spans: Array<{ name: string; facts: SpanFacts }>): Record<string, Omit<SpanFacts, "sessionId">> {
  return Object.fromEntries(spans.map((sp) => [sp.name, { ...sp.facts, sessionId: undefined }]));
}

describe("security facts in the store", () => {
  it("are the same for spans from the SDK and from plain OTel instrumentation", async () => {
    await sessionWithSdk("sess-sdk");
    await sessionWithPlainOtel("sess-plain");
    const sdk = await findSession(h.vigil.client, "sess-sdk");
    const plain = await findSession(h.vigil.client, "sess-plain");
    expect(sdk).toHaveLength(7);
    expect(factsByName(sdk)).toEqual(factsByName(plain));

    const byName = factsByName(sdk);
    expect(byName["DELETE postgresql"]).toMatchObject({
      dbTables: ["refunds_pending", "customers"],
      dbTablesWritten: ["refunds_pending"],
      destructive: true,
      credentialId: "cred-pg-support",
    });
    expect(byName["POST"]).toMatchObject({ outboundHost: "api.stripe.com", credentialId: "cred-stripe" });
    expect(byName["invoke_agent billing-bot"]).toMatchObject({ peerAgent: "billing-bot", claimedAgent: "support-bot" });
    expect(byName["approval appr-1"]).toMatchObject({ approvalId: "appr-1", approvalStatus: "approved" });
    expect(byName["chat claude-sonnet-4-5"]?.input).toContain(PROMPT);
  });

  it("stores a span with no GenAI attributes with empty facts", async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "" }),
      spanProcessors: [
        new SimpleSpanProcessor(
          new OTLPTraceExporter({ url: h.ingestUrl, headers: { Authorization: `Bearer ${h.tokens["billing-bot"]}` } }),
        ),
      ],
    });
    const span = provider.getTracer("bare").startSpan("GET /health", { attributes: { "http.route": "/health" } });
    span.end();
    await provider.shutdown();
    const [stored] = await findTrace(h.vigil.client, span.spanContext().traceId);
    expect(stored?.agentId).toBe("billing-bot");
    expect(stored?.facts).toEqual(emptyFacts());
  });
});
