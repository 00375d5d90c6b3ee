import { beforeAll, describe, expect, it } from "vitest";
import { decodeTraceRequestJson } from "@vigil/otlp";
import type { Span } from "@vigil/otlp";
import { fixtureNs } from "../../../test/support/otlp-fixtures";
import { extractFacts } from "./extract";
import { inheritMcpServers, inheritSessions, inheritSubAgents } from "./in-request";
import { emptyFacts } from "./model";
import { initSqlParser } from "./sql/statement-tables";

beforeAll(async () => {
  await initSqlParser();
});

type Attr = [string, string | number | boolean];
interface SpanSpec {
  name?: string;
  spanId?: string;
  parentSpanId?: string;
  kind?: number;
  attrs?: Attr[];
  resource?: Attr[];
  events?: Array<{ name: string; attrs: Attr[] }>;
}

const kv = ([key, v]: Attr) => ({
  key,
  value:
    typeof v === "string" ? { stringValue: v } : typeof v === "boolean" ? { boolValue: v } : { intValue: String(v) },
});

/** Spans built through the real JSON decoder, as ingest sees them. */
function spans(...specs: SpanSpec[]): Span[] {
  return decodeTraceRequestJson(
    JSON.stringify({
      resourceSpans: specs.map((s, i) => ({
        resource: { attributes: (s.resource ?? [["service.name", "support-bot"]]).map(kv) },
        scopeSpans: [
          {
            spans: [
              {
                traceId: "0af7651916cd43dd8448eb211c80319c",
                spanId: s.spanId ?? `00000000000000${String(i + 1).padStart(2, "0")}`,
                parentSpanId: s.parentSpanId ?? "",
                kind: s.kind ?? 1,
                name: s.name ?? "step",
                startTimeUnixNano: fixtureNs(i),
                endTimeUnixNano: fixtureNs(i + 1),
                attributes: (s.attrs ?? []).map(kv),
                events: (s.events ?? []).map((e) => ({
                  name: e.name,
                  timeUnixNano: fixtureNs(i),
                  attributes: e.attrs.map(kv),
                })),
              },
            ],
          },
        ],
      })),
    }),
  ).spans;
}

describe("security facts", () => {
  it("reads a tool call that runs a destructive query, following the conventions", () => {
    const [span] = spans({
      kind: 3,
      attrs: [
        ["gen_ai.operation.name", "execute_tool"],
        ["gen_ai.tool.name", "run_sql"],
        ["gen_ai.agent.id", "support-bot"],
        ["session.id", "s-1"],
        ["deployment.environment.name", "production"],
        ["db.system.name", "postgresql"],
        ["db.query.text", "DELETE FROM users u USING banned b WHERE u.id = b.id"],
        ["vigil.credential.id", "cred-pg-admin"],
        ["gen_ai.tool.call.arguments", '{"filter":"banned"}'],
      ],
    });
    expect(extractFacts(span!)).toEqual({
      ...emptyFacts(),
      claimedAgent: "support-bot",
      sessionId: "s-1",
      environment: "production",
      operation: "execute_tool",
      tool: "run_sql",
      dbSystem: "postgresql",
      dbOperation: "DELETE",
      dbTables: ["users", "banned"],
      dbTablesWritten: ["users"],
      dbStatementKinds: ["DELETE"],
      credentialId: "cred-pg-admin",
      input: '{"filter":"banned"}',
      inputSource: "gen_ai.tool.call.arguments",
      destructive: true,
      destructiveReason: "DELETE",
    });
  });

  it("gives a span with no GenAI or database attributes empty facts (but its service name)", () => {
    const [span] = spans({ attrs: [["http.route", "/health"]], resource: [] });
    expect(extractFacts(span!)).toEqual(emptyFacts());
  });

  it("reads the outbound host from url.full, and the environment from the resource", () => {
    const [span] = spans({
      kind: 3,
      attrs: [["url.full", "https://user:pw@API.Stripe.com:443/v1/charges?x=1"]],
      resource: [
        ["service.name", "billing"],
        ["deployment.environment", "staging"],
      ],
    });
    expect(extractFacts(span!)).toMatchObject({
      outboundHost: "api.stripe.com",
      environment: "staging",
      claimedAgent: "billing",
    });
  });

  it("treats gen_ai.agent.* on an invoke_agent CLIENT span as the agent being called", () => {
    const [span] = spans({
      kind: 3,
      attrs: [
        ["gen_ai.operation.name", "invoke_agent"],
        ["gen_ai.agent.name", "billing-bot"],
      ],
      resource: [["service.name", "support-bot"]],
    });
    expect(extractFacts(span!)).toMatchObject({ claimedAgent: "support-bot", peerAgent: "billing-bot" });
  });

  it("recognises a CLIENT span to a known agent host as a peer-agent call", () => {
    const [span] = spans({ kind: 3, attrs: [["server.address", "billing.agents.internal"]] });
    const facts = extractFacts(span!, { agentHosts: new Map([["billing.agents.internal", "billing-bot"]]) });
    expect(facts.peerAgent).toBe("billing-bot");
  });

  it("takes the causing input and an approval from span events", () => {
    const [span] = spans({
      events: [
        { name: "gen_ai.user.message", attrs: [["content", "please drop the staging table"]] },
        {
          name: "vigil.approval",
          attrs: [
            ["vigil.approval.id", "appr-7"],
            ["vigil.approval.status", "approved"],
          ],
        },
      ],
    });
    expect(extractFacts(span!)).toMatchObject({
      input: "please drop the staging table",
      inputSource: "gen_ai.user.message",
      approvalId: "appr-7",
      approvalStatus: "approved",
    });
  });

  it("marks a declared destructive operation without query text, and keeps the declared table", () => {
    const [span] = spans({
      attrs: [
        ["db.system.name", "mongodb"],
        ["db.operation.name", "drop"],
        ["db.collection.name", "Orders"],
      ],
    });
    expect(extractFacts(span!)).toMatchObject({
      dbOperation: "DROP",
      dbTables: ["orders"],
      dbTablesWritten: ["orders"],
      destructive: true,
    });
  });

  it("cuts a very long input and says so", () => {
    const [span] = spans({ attrs: [["gen_ai.prompt", "x".repeat(20_000)]] });
    const facts = extractFacts(span!);
    expect(facts.input.length).toBeLessThan(8300);
    expect(facts.input.endsWith("[truncated]")).toBe(true);
  });

  it("reads the AI SDK 6's own keys where the GenAI conventions are absent, and cuts its long prompts too", () => {
    const [call, model] = spans(
      {
        attrs: [
          ["ai.operationId", "ai.toolCall"],
          ["ai.toolCall.name", "lookup_order"],
          ["ai.toolCall.args", '{"id":7}'],
          ["ai.telemetry.metadata.sessionId", "ticket-5042"],
        ],
      },
      {
        attrs: [
          ["ai.operationId", "ai.streamText.doStream"],
          ["ai.prompt.messages", "y".repeat(20_000)],
          ["gen_ai.tool.name", "from_semconv"],
        ],
      },
    );
    expect(extractFacts(call!)).toMatchObject({
      tool: "lookup_order",
      operation: "execute_tool",
      sessionId: "ticket-5042",
      input: '{"id":7}',
      inputSource: "ai.toolCall.args",
    });
    const facts = extractFacts(model!);
    expect(facts.operation).toBe("chat");
    // The GenAI conventions win where both are present.
    expect(facts.tool).toBe("from_semconv");
    expect(facts.input.endsWith("[truncated]")).toBe(true);
  });

  it("lets child spans inherit the session of an ancestor in the same request", () => {
    const list = spans(
      { spanId: "00000000000000a1", attrs: [["session.id", "root-session"]] },
      { spanId: "00000000000000a2", parentSpanId: "00000000000000a1" },
      { spanId: "00000000000000a3", parentSpanId: "00000000000000a2" },
      { spanId: "00000000000000b1", parentSpanId: "00000000000000ff" },
    );
    const facts = list.map((s) => extractFacts(s));
    inheritSessions(list, facts);
    expect(facts.map((f) => f.sessionId)).toEqual(["root-session", "root-session", "root-session", ""]);
  });

  it("reads MCP requests: the method, the tool, and a server name that is no outbound host", () => {
    const [named, addressed, served] = spans(
      // A server's configured name in server.address (as Mastra writes it).
      {
        name: "tools/call list_repos",
        kind: 3,
        attrs: [
          ["mcp.method.name", "tools/call"],
          ["server.address", "github"],
        ],
      },
      {
        kind: 3,
        attrs: [
          ["mcp.method.name", "tools/call"],
          ["gen_ai.tool.name", "search"],
          ["server.address", "mcp.internal.example"],
        ],
      },
      // The server's own span of handling a call: the caller, not the server, is its peer.
      {
        name: "tools/call search",
        kind: 2,
        attrs: [
          ["mcp.method.name", "tools/call"],
          ["server.address", "mcp.internal.example"],
        ],
      },
    );
    expect(extractFacts(named!)).toMatchObject({
      operation: "execute_tool",
      tool: "list_repos",
      mcpMethod: "tools/call",
      mcpServer: "github",
      outboundHost: "",
      peerAgent: "mcp:github",
      dialect: "",
    });
    expect(extractFacts(addressed!)).toMatchObject({
      tool: "search",
      mcpServer: "mcp.internal.example",
      outboundHost: "mcp.internal.example",
      peerAgent: "mcp:mcp.internal.example",
    });
    expect(extractFacts(served!).peerAgent).toBe("");
  });

  it("reads OpenLLMetry's entity keys and association properties, and gives an MCP connection its server", () => {
    const list = spans(
      {
        spanId: "00000000000000c1",
        attrs: [
          ["traceloop.span.kind", "tool"],
          ["traceloop.entity.name", "refund"],
          ["traceloop.entity.input", '{"order":7}'],
          ["traceloop.association.properties.session_id", "chat-42"],
        ],
      },
      {
        name: "initialize.mcp",
        spanId: "00000000000000c2",
        attrs: [["traceloop.entity.output", '{"protocolVersion":"2025-06-18","serverInfo":{"name":"billing"}}']],
      },
      { name: "charge.tool", spanId: "00000000000000c3", kind: 3, attrs: [["traceloop.span.kind", "tool"]] },
    );
    for (const s of list.slice(1)) s.scope.name = "@traceloop/instrumentation-mcp";
    const facts = list.map((s) => extractFacts(s));
    expect(facts[0]).toMatchObject({
      operation: "execute_tool",
      tool: "refund",
      input: '{"order":7}',
      sessionId: "chat-42",
      dialect: "traceloop",
      mcpMethod: "",
    });
    inheritMcpServers(list, facts);
    expect(facts[1]).toMatchObject({ mcpMethod: "initialize", mcpServer: "billing" });
    expect(facts[2]).toMatchObject({ mcpMethod: "tools/call", mcpServer: "billing", peerAgent: "mcp:billing" });
  });

  it("reads hand-offs and in-process sub-agents as calls to those agents", () => {
    const list = spans(
      { name: "support-agent", spanId: "00000000000000d1", attrs: [["openinference.span.kind", "AGENT"]] },
      {
        name: "billing-agent",
        spanId: "00000000000000d2",
        parentSpanId: "00000000000000d1",
        attrs: [["openinference.span.kind", "AGENT"]],
      },
      // The same agent nested in itself (a retry) is no call to another agent.
      {
        name: "billing-agent",
        spanId: "00000000000000d3",
        parentSpanId: "00000000000000d2",
        attrs: [["openinference.span.kind", "AGENT"]],
      },
      {
        name: "handoff to refunds-agent",
        spanId: "00000000000000d4",
        parentSpanId: "00000000000000d1",
        attrs: [
          ["openinference.span.kind", "TOOL"],
          ["tool.name", "handoff_to_refunds-agent"],
        ],
      },
      {
        spanId: "00000000000000d5",
        attrs: [
          ["gen_ai.operation.name", "execute_tool"],
          ["gen_ai.tool.name", "transfer_to_agent"],
          ["gen_ai.tool.call.arguments", '{"agent_name":"flights_agent"}'],
        ],
      },
    );
    const facts = list.map((s) => extractFacts(s));
    inheritSubAgents(list, facts);
    expect(facts.map((f) => [f.operation, f.tool, f.peerAgent])).toEqual([
      ["invoke_agent", "", ""],
      ["invoke_agent", "", "billing-agent"],
      ["invoke_agent", "", ""],
      ["invoke_agent", "", "refunds-agent"],
      ["invoke_agent", "", "flights_agent"],
    ]);
  });

  it("reads the host of a call out in the HTTP keys before the stable semconv, and never a server span's own", () => {
    const [byUrl, byPeer, byHost, server] = spans(
      {
        kind: 3,
        attrs: [
          ["http.url", "https://Api.Stripe.example:443/v1/charges"],
          ["http.method", "POST"],
        ],
      },
      {
        kind: 3,
        attrs: [
          ["net.peer.name", "mail.example"],
          ["net.peer.port", 25],
        ],
      },
      { kind: 3, attrs: [["http.host", "paste.example:8443"]] },
      {
        kind: 2,
        attrs: [
          ["http.host", "vigil.internal:4318"],
          ["http.url", "http://vigil.internal:4318/v1/traces"],
        ],
      },
    );
    expect(extractFacts(byUrl!)).toMatchObject({ outboundHost: "api.stripe.example", dialect: "otel-old-semconv" });
    expect(extractFacts(byPeer!).outboundHost).toBe("mail.example");
    expect(extractFacts(byHost!).outboundHost).toBe("paste.example");
    expect(extractFacts(server!).outboundHost).toBe("");
  });

  it("reads the table of the database keys before db.collection.name", () => {
    const [old] = spans({
      kind: 3,
      attrs: [
        ["db.system", "mysql"],
        ["db.sql.table", "Orders"],
        ["db.operation", "SELECT"],
      ],
    });
    expect(extractFacts(old!)).toMatchObject({ dbSystem: "mysql", dbTables: ["orders"], dbOperation: "SELECT" });
  });
});
