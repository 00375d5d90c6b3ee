import type { Span } from "@vigil/otlp";
import { text } from "../attributes";
import type { SpanFacts } from "../model";

/**
 * The OpenTelemetry MCP conventions: `mcp.method.name` on every request span, the tool
 * in `gen_ai.tool.name` (or the span name, "tools/call <tool>"), the server in
 * `server.address`. Some libraries (Mastra) put the server's configured *name* there
 * ("github"): a name is not a host to call out to, so it becomes the MCP server fact
 * and no outbound host; a network address is both.
 */
export function readMcp(span: Span, f: SpanFacts): void {
  const method = text(span.attributes, "mcp.method.name");
  if (method === "") return;
  f.mcpMethod = method;
  const address = text(span.attributes, "server.address");
  if (address !== "") {
    f.mcpServer = address.toLowerCase();
    if (!isNetworkAddress(address)) f.outboundHost = "";
  }
  if (method === "tools/call") {
    if (f.operation === "") f.operation = "execute_tool";
    if (f.tool === "" && span.name.startsWith("tools/call ")) f.tool = span.name.slice("tools/call ".length);
  }
}

/** An IP literal, localhost, or a dotted host name; a bare word ("github") is a configured name. */
export function isNetworkAddress(address: string): boolean {
  return address.includes(".") || address.includes(":") || address.toLowerCase() === "localhost";
}

/**
 * An MCP tool call delegates the action to the server: the server is the step's peer
 * (`mcp:<server>`), so `new_peer_agent` and `policy.peers` see a new or undeclared one.
 * Only the client side: a server's own spans of handling a call have the caller as peer.
 */
export function mcpPeer(span: Span, f: SpanFacts): void {
  if (f.peerAgent !== "" || f.mcpServer === "" || f.mcpMethod !== "tools/call") return;
  if (span.kind === SPAN_KIND_SERVER) return;
  f.peerAgent = `mcp:${f.mcpServer}`;
}

const SPAN_KIND_SERVER = 2;
