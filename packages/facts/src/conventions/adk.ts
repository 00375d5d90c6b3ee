import type { Span } from "@vigil/otlp";
import { text } from "../attributes";
import type { SpanFacts } from "../model";

/**
 * Google's Agent Development Kit hands a conversation to another agent with its built-in
 * `transfer_to_agent` tool (GenAI keys: an execute_tool span with the tool's arguments,
 * `{"agent_name": ...}`). A hand-off is a call to that agent, not a tool the agent's
 * tool allow-list governs.
 */
export function readAdkTransfer(span: Span, f: SpanFacts): void {
  if (f.tool !== "transfer_to_agent" || f.peerAgent !== "") return;
  const args = text(span.attributes, "gen_ai.tool.call.arguments");
  let to = "";
  try {
    const parsed = JSON.parse(args) as { agent_name?: unknown };
    if (typeof parsed.agent_name === "string") to = parsed.agent_name;
  } catch {
    return;
  }
  if (to === "") return;
  f.peerAgent = to;
  f.operation = "invoke_agent";
  f.tool = "";
}
