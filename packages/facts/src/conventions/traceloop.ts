import type { Span } from "@vigil/otlp";
import { firstText, text } from "../attributes";
import type { SpanFacts } from "../model";

/**
 * OpenLLMetry (Traceloop's instrumentations and SDK). Its model-call spans follow the
 * GenAI conventions; what it adds is its own: `traceloop.span.kind` (workflow, task,
 * agent, tool, session), the entity's name and input (`traceloop.entity.name`,
 * `traceloop.entity.input`, JSON), and the application's association properties
 * (`traceloop.association.properties.<key>`, where the SDK's docs put `session_id`).
 * Its MCP instrumentation names a tool call's span `<tool>.tool` and every other request
 * `<method>.mcp`, children of one `mcp.client.session` span per connection; the server's
 * name is only in the `initialize` request's output. Read from
 * @traceloop/ai-semantic-conventions, @traceloop/instrumentation-mcp and -langchain and
 * their spans in test/conformance.
 *
 * Fills only facts the GenAI conventions left empty.
 */
export function readTraceloop(span: Span, f: SpanFacts): boolean {
  const a = span.attributes;
  const kind = text(a, "traceloop.span.kind");
  const mcp = span.scope.name === MCP_SCOPE;
  if (kind === "" && !mcp) return false;
  if (f.operation === "") f.operation = OPERATIONS[kind] ?? "";
  // Its LangChain instrumentation marks a tool's span a "task" (kept for older readers)
  // beside gen_ai.operation.name = execute_tool: the entity is the tool either way. It
  // names the entity by the tool's class, which for tools made with LangChain's `tool()`
  // is a generic class, not the tool: no name is better than one every tool shares (an
  // allow-list then fails closed on the step instead of naming a tool no one called).
  if (f.tool === "" && (kind === "tool" || f.operation === "execute_tool")) {
    const entity = text(a, "traceloop.entity.name");
    if (!LANGCHAIN_TOOL_CLASSES.has(entity)) f.tool = entity;
  }
  if (f.sessionId === "") f.sessionId = firstText(a, SESSION_KEYS)[0];
  if (f.input === "" && kind !== "session") {
    f.input = text(a, "traceloop.entity.input");
    if (f.input !== "") f.inputSource = "traceloop.entity.input";
  }
  if (mcp && f.mcpMethod === "") {
    if (kind === "tool") f.mcpMethod = "tools/call";
    else if (span.name.endsWith(".mcp")) f.mcpMethod = span.name.slice(0, -".mcp".length);
    if (f.mcpMethod === "initialize" && f.mcpServer === "")
      f.mcpServer = serverName(text(a, "traceloop.entity.output"));
  }
  return true;
}

/** @langchain/core's own tool classes: what a tool made with `tool()` is an instance of. */
const LANGCHAIN_TOOL_CLASSES = new Set(["DynamicStructuredTool", "DynamicTool", "StructuredTool", "Tool"]);

/** The scope of OpenLLMetry's MCP instrumentation: its connection span names no method. */
export const MCP_SCOPE = "@traceloop/instrumentation-mcp";

const OPERATIONS: Record<string, string> = { tool: "execute_tool", agent: "invoke_agent" };

const SESSION_KEYS = [
  "traceloop.association.properties.session_id",
  "traceloop.association.properties.sessionId",
  "traceloop.association.properties.thread_id",
  "traceloop.association.properties.conversation_id",
] as const;

/** `serverInfo.name` of an initialize result, as the instrumentation serialises it; "" when unreadable. */
function serverName(output: string): string {
  if (!output.includes("serverInfo")) return "";
  try {
    const parsed = JSON.parse(output) as { serverInfo?: { name?: unknown } };
    return typeof parsed.serverInfo?.name === "string" ? parsed.serverInfo.name : "";
  } catch {
    return "";
  }
}
