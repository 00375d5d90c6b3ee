import { ATTR_VIGIL_CREDENTIAL_ID } from "@vigil/common/attributes";
import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { CREDENTIAL_KEY, SESSION_KEY } from "./context-keys";

/**
 * Stamps `session.id` and `vigil.credential.id` from the active context onto every span
 * that starts inside a Vigil scope, including spans made by other OpenTelemetry
 * instrumentations (HTTP clients, database drivers), so their facts land in the
 * right session without changing them.
 */
export class VigilContextProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const session = parentContext.getValue(SESSION_KEY);
    if (typeof session === "string" && span.attributes["session.id"] === undefined)
      span.setAttribute("session.id", session);
    const credential = parentContext.getValue(CREDENTIAL_KEY);
    if (typeof credential === "string" && span.attributes[ATTR_VIGIL_CREDENTIAL_ID] === undefined) {
      span.setAttribute(ATTR_VIGIL_CREDENTIAL_ID, credential);
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
