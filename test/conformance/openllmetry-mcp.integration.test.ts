import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trace } from "@opentelemetry/api";
import { McpInstrumentation } from "@traceloop/instrumentation-mcp";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { startConformance } from "../support/conformance";
import type { Conformance } from "../support/conformance";
import { recordConformanceRow } from "../support/conformance-table";

/**
 * Conformance: MCP, as an agent using the real `@modelcontextprotocol/sdk` 1.32.2 client
 * under OpenLLMetry's `@traceloop/instrumentation-mcp` 0.27.0 (pinned) sends it, against
 * a real MCP server of the same SDK over its in-memory transport. The instrumentation
 * names a tool call `<tool>.tool` with `traceloop.entity.*`, under one
 * `mcp.client.session` span per connection, and names the server only in the
 * initialize request's output: the tool, its arguments, the MCP method and server must
 * be read, the server must be the call's peer, and the session named on the agent's own
 * root span must reach the connection's spans.
 */
let c: Conformance;

beforeAll(async () => {
  c = await startConformance("    policy:\n      tools: [lookup_order]\n      peers: [mcp:orders-mcp]\n");
  const instrumentation = new McpInstrumentation();
  instrumentation.setTracerProvider(c.provider);
  instrumentation.manuallyInstrument({ Client });
}, 120_000);

afterAll(async () => {
  await c?.stop();
});

/** An MCP server with two tools, as a team would expose its order system. */
function ordersServer(name: string): McpServer {
  const server = new McpServer({ name, version: "1.0.0" });
  server.registerTool("lookup_order", { inputSchema: { id: z.number() } }, ({ id }) => ({
    content: [{ type: "text", text: JSON.stringify({ id, status: "open" }) }],
  }));
  server.registerTool("wipe_orders", { inputSchema: { before: z.string() } }, () => ({
    content: [{ type: "text", text: "wiped" }],
  }));
  return server;
}

/** One agent turn in a session: connect to the server, call one tool, disconnect. */
async function turn(sessionId: string, serverName: string, tool: string, args: Record<string, unknown>) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await ordersServer(serverName).connect(serverSide);
  await trace
    .getTracer("support-bot-app")
    .startActiveSpan("support-turn", { attributes: { "session.id": sessionId } }, async (root) => {
      const client = new Client({ name: "support-bot", version: "1.0.0" });
      await client.connect(clientSide);
      await client.callTool({ name: tool, arguments: args });
      await client.close();
      root.end();
    });
  await c.provider.forceFlush();
}

describe("OpenLLMetry MCP instrumentation (the MCP SDK's client)", () => {
  it("reads the tool call: tool, arguments, MCP method and server, the server as peer, the session", async () => {
    await turn("ticket-8001", "orders-mcp", "lookup_order", { id: 7 });
    const spans = await c.stored("ticket-8001", 4);
    const call = spans.find((s) => s.name === "lookup_order.tool");
    expect(call?.facts).toMatchObject({
      operation: "execute_tool",
      tool: "lookup_order",
      mcpMethod: "tools/call",
      mcpServer: "orders-mcp",
      peerAgent: "mcp:orders-mcp",
      outboundHost: "",
      dialect: "traceloop",
    });
    expect(JSON.parse(call?.facts.input ?? "{}")).toEqual({ tool_name: "lookup_order", arguments: { id: 7 } });
    expect(spans.find((s) => s.name === "initialize.mcp")?.facts).toMatchObject({
      mcpMethod: "initialize",
      mcpServer: "orders-mcp",
    });
  });

  it("raises policy_violation for an MCP tool outside the allow-list", async () => {
    await turn("ticket-8002", "orders-mcp", "wipe_orders", { before: "2026-01-01" });
    expect((await c.alertOf("policy_violation", "ticket-8002")).summary).toContain("wipe_orders");
  });

  it("raises policy_violation for a call to an MCP server outside the declared peers", async () => {
    await turn("ticket-8003", "shadow-mcp", "lookup_order", { id: 8 });
    const alert = await c.alertOf("policy_violation", "ticket-8003");
    expect(alert.summary).toContain("mcp:shadow-mcp");
  });

  it("reads every fact the library emits (the conformance table's row)", async () => {
    const row = await recordConformanceRow(c, "OpenLLMetry mcp 0.27.0 + MCP SDK 1.32.2", [
      "operation",
      "tool",
      "input",
      "peer",
      "mcp server",
      "mcp method",
    ]);
    expect(row.missed).toEqual([]);
  });
});
