import type { Span } from "@vigil/otlp";
import { firstText, text } from "../attributes";
import type { SpanFacts } from "../model";

/**
 * The Vercel AI SDK up to version 6, which names its own keys (`ai.*`) instead of the
 * GenAI conventions (version 7 writes those, and only its session is read here). Read from the SDK's source and from its
 * spans in test/conformance: every span carries `ai.operationId`; a tool call is an
 * `ai.toolCall` span with `ai.toolCall.name` and `ai.toolCall.args`; a model call is
 * `ai.<function>.doGenerate` or `.doStream` with the prompt in `ai.prompt.messages`; the
 * caller's `experimental_telemetry.metadata` arrives as `ai.telemetry.metadata.<key>`,
 * where applications put the session (`sessionId` in the SDK's own examples).
 *
 * Fills only facts the GenAI conventions left empty.
 */
export function readAiSdk(span: Span, f: SpanFacts): boolean {
  const a = span.attributes;
  const operationId = text(a, "ai.operationId");
  if (operationId === "") return readAiSdk7Session(a, f);
  if (f.operation === "") {
    if (operationId === "ai.toolCall") f.operation = "execute_tool";
    else if (/\.do(Generate|Stream)$/.test(operationId)) f.operation = "chat";
  }
  if (f.tool === "") f.tool = text(a, "ai.toolCall.name");
  if (f.sessionId === "") f.sessionId = firstText(a, SESSION_KEYS)[0];
  if (f.input === "") {
    const [input, source] = firstText(a, INPUT_KEYS);
    f.input = input;
    f.inputSource = source;
  }
  return true;
}

/**
 * Version 7 writes the GenAI conventions through its OpenTelemetry integration
 * (`@ai-sdk/otel`), read with no dialect of their own; the application's runtime
 * context, when the integration records it (`runtimeContext: true` and the call's
 * `includeRuntimeContext`), arrives as `ai.settings.context.<key>` on the agent and step
 * spans: where the session is.
 */
function readAiSdk7Session(a: Span["attributes"], f: SpanFacts): boolean {
  if (f.sessionId !== "") return false;
  const [session] = firstText(a, CONTEXT_SESSION_KEYS);
  if (session === "") return false;
  f.sessionId = session;
  return true;
}

const CONTEXT_SESSION_KEYS = [
  "ai.settings.context.sessionId",
  "ai.settings.context.session_id",
  "ai.settings.context.conversationId",
  "ai.settings.context.threadId",
] as const;

const SESSION_KEYS = [
  "ai.telemetry.metadata.sessionId",
  "ai.telemetry.metadata.session_id",
  "ai.telemetry.metadata.conversationId",
  "ai.telemetry.metadata.threadId",
] as const;

/** The model call's messages, the call's prompt, then a tool call's arguments. */
const INPUT_KEYS = ["ai.prompt.messages", "ai.prompt", "ai.toolCall.args"] as const;
