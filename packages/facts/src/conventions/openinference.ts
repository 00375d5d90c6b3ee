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
export function readOpenInference(span: Span, f: SpanFacts): void {
  const kind = text(span.attributes, "openinference.span.kind").toUpperCase();
  if (kind === "") return;
  if (f.operation === "") f.operation = OPERATIONS[kind] ?? "";
  if (f.tool === "" && kind === "TOOL") f.tool = text(span.attributes, "tool.name") || span.name;
  if (f.input === "") {
    f.input = text(span.attributes, "input.value");
    if (f.input !== "") f.inputSource = "input.value";
  }
}

/** OpenInference span kinds as GenAI operation names. */
const OPERATIONS: Record<string, string> = {
  LLM: "chat",
  TOOL: "execute_tool",
  AGENT: "invoke_agent",
  EMBEDDING: "embeddings",
};
