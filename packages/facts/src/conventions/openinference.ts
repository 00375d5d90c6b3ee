import type { Span } from "@vigil/otlp";
import { text } from "../attributes";
import type { SpanFacts } from "../model";

/**
 * OpenInference (Arize's conventions, used by its instrumentations and by the OpenAI
 * Agents processor): every span says what it is in `openinference.span.kind`, inputs are
 * `input.value`, the session is `session.id` (read with the GenAI keys). A tool span may
 * name its tool in `tool.name`; the JavaScript helpers (`traceTool`) name only the span.
 * Read from openinference-semantic-conventions and from the spans of the real packages in
 * test/conformance.
 *
 * Fills only facts the GenAI conventions left empty.
 */
export function readOpenInference(span: Span, f: SpanFacts): boolean {
  const kind = text(span.attributes, "openinference.span.kind").toUpperCase();
  if (kind === "") return false;
  if (f.operation === "") f.operation = OPERATIONS[kind] ?? "";
  if (kind === "TOOL" && f.peerAgent === "") {
    // The OpenAI Agents processor writes a hand-off as a TOOL span ("handoff to <agent>",
    // tool handoff_to_<agent>, output {"to_agent": ...}): it is a call to that agent.
    const to = handoffTarget(span);
    if (to !== "") {
      f.operation = "invoke_agent";
      f.peerAgent = to;
      return true;
    }
  }
  if (f.tool === "" && kind === "TOOL") f.tool = text(span.attributes, "tool.name") || span.name;
  if (f.input === "") {
    f.input = text(span.attributes, "input.value");
    if (f.input !== "") f.inputSource = "input.value";
  }
  return true;
}

/** OpenInference span kinds as GenAI operation names. */
const OPERATIONS: Record<string, string> = {
  LLM: "chat",
  TOOL: "execute_tool",
  AGENT: "invoke_agent",
  EMBEDDING: "embeddings",
};

/** The agent a hand-off span hands over to, "" when the span is no hand-off. */
function handoffTarget(span: Span): string {
  if (span.name.startsWith("handoff to ")) return span.name.slice("handoff to ".length);
  const tool = text(span.attributes, "tool.name");
  return tool.startsWith("handoff_to_") ? tool.slice("handoff_to_".length) : "";
}
