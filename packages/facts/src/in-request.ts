import type { Span } from "@vigil/otlp";
import { text } from "./attributes";
import { mcpPeer } from "./conventions/mcp";
import { MCP_SCOPE } from "./conventions/traceloop";
import type { SpanFacts } from "./model";

/**
 * What a span's facts learn from the other spans of the same request: its session from
 * an ancestor, an MCP connection's server, a sub-agent's caller. Spans of other requests
 * are not seen here (the session also resolves across requests through the store's
 * trace_sessions table); each function runs once per request, after extraction.
 */

/**
 * The steps of one MCP connection whose spans do not name the server (OpenLLMetry's tool
 * calls) take the server its `initialize` named, when that span is in the same request
 * and trace; then a tool call's peer is that server (see conventions/mcp.ts).
 */
export function inheritMcpServers(spans: readonly Span[], facts: SpanFacts[]): void {
  const serverOfTrace = new Map<string, string>();
  for (let i = 0; i < spans.length; i++) {
    const f = facts[i];
    if (f?.mcpMethod === "initialize" && f.mcpServer !== "") serverOfTrace.set(spans[i]?.traceId ?? "", f.mcpServer);
  }
  if (serverOfTrace.size === 0) return;
  for (let i = 0; i < spans.length; i++) {
    const f = facts[i];
    const span = spans[i];
    if (f === undefined || span === undefined || f.mcpServer !== "") continue;
    if (f.mcpMethod === "" && span.scope.name !== MCP_SCOPE) continue;
    f.mcpServer = serverOfTrace.get(span.traceId) ?? "";
    mcpPeer(span, f);
  }
}

/**
 * Spans with no session of their own take the session of their nearest ancestor in the
 * same request (agents often set session.id only on the root span).
 */
export function inheritSessions(spans: readonly Span[], facts: SpanFacts[]): void {
  const sessionBySpan = new Map<string, number>();
  for (let i = 0; i < spans.length; i++) sessionBySpan.set(`${spans[i]?.traceId}/${spans[i]?.spanId}`, i);
  for (let i = 0; i < spans.length; i++) {
    const own = facts[i];
    if (own === undefined || own.sessionId !== "") continue;
    let parent = spans[i]?.parentSpanId ?? "";
    const traceId = spans[i]?.traceId ?? "";
    for (let depth = 0; parent !== "" && depth < 64; depth++) {
      const j = sessionBySpan.get(`${traceId}/${parent}`);
      if (j === undefined) break;
      const ancestor = facts[j];
      if (ancestor !== undefined && ancestor.sessionId !== "") {
        own.sessionId = ancestor.sessionId;
        break;
      }
      parent = spans[j]?.parentSpanId ?? "";
    }
  }
}

/**
 * In-process sub-agents: every framework writes an agent that another agent runs as a
 * nested `invoke_agent` (OpenInference AGENT) span, not as a CLIENT call. A nested
 * agent span whose nearest agent ancestor has another name is a call to that agent: its
 * peer is the sub-agent (for `new_peer_agent` and `policy.peers`). The name is a display
 * name, which is what a policy lists for in-process agents.
 */
export function inheritSubAgents(spans: readonly Span[], facts: SpanFacts[]): void {
  const index = new Map<string, number>();
  for (let i = 0; i < spans.length; i++) {
    if (facts[i]?.operation === "invoke_agent") index.set(`${spans[i]?.traceId}/${spans[i]?.spanId}`, i);
  }
  if (index.size < 2) return;
  const byId = new Map<string, number>();
  for (let i = 0; i < spans.length; i++) byId.set(`${spans[i]?.traceId}/${spans[i]?.spanId}`, i);
  for (const i of index.values()) {
    const own = facts[i] as SpanFacts;
    const span = spans[i] as Span;
    // The OpenAI Agents processor names each agent's graph node and writes every hand-off
    // as a span of its own (conventions/openinference.ts): its agents nest under a
    // workflow span, not under the agent that called them.
    if (own.peerAgent !== "" || span.kind === SPAN_KIND_CLIENT || "graph.node.id" in span.attributes) continue;
    const name = agentNameOf(span);
    let parent = span.parentSpanId;
    for (let depth = 0; parent !== "" && depth < 64; depth++) {
      const j = byId.get(`${span.traceId}/${parent}`);
      if (j === undefined) break;
      if (index.has(`${span.traceId}/${parent}`)) {
        const caller = agentNameOf(spans[j] as Span);
        if (name !== "" && caller !== "" && caller !== name) own.peerAgent = name;
        break;
      }
      parent = spans[j]?.parentSpanId ?? "";
    }
  }
}

const SPAN_KIND_CLIENT = 3;

/** The agent an agent span runs, as the libraries name it. */
function agentNameOf(span: Span): string {
  const a = span.attributes;
  return (
    text(a, "gen_ai.agent.name") ||
    text(a, "agent.name") ||
    (text(a, "traceloop.span.kind") === "agent" ? text(a, "traceloop.entity.name") : "") ||
    (text(a, "openinference.span.kind").toUpperCase() === "AGENT" ? span.name : "")
  );
}
