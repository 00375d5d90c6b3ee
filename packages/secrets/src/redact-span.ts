import type { AnyValue, Attributes, Resource, Scope, Span } from "@vigil/otlp";
import { redactSecrets } from "./scan";

/** A credential found (and removed) somewhere in a span. */
export interface SpanRedaction {
  rule: string;
  fingerprint: string;
  /** Where it was: `attributes.gen_ai.prompt`, `events[0].attributes.content`, `status.message`, `resource.attributes.x`, `name`. */
  location: string;
}

/**
 * Redacts every credential in the spans of one request, in place, before anything is
 * stored: every string that reaches a column. Span names, trace state, status messages,
 * attribute keys and string values at any nesting depth (span, event, link, resource,
 * scope), event names, link trace state, scope name and version, schema URLs. Returns,
 * per span, what was removed: the rule, a fingerprint to match the credential to
 * rotate, and where.
 */
export function redactSpans(spans: readonly Span[]): SpanRedaction[][] {
  const shared = new Map<Resource | Scope, SpanRedaction[]>();
  return spans.map((span) => {
    const found: SpanRedaction[] = [];
    for (const [owner, prefix] of [
      [span.resource, "resource.attributes"],
      [span.scope, "scope.attributes"],
    ] as const) {
      let ownerFindings = shared.get(owner);
      if (ownerFindings === undefined) {
        ownerFindings = [];
        redactAttributes(owner.attributes, prefix, ownerFindings);
        const where = prefix === "resource.attributes" ? "resource" : "scope";
        owner.schemaUrl = redactText(owner.schemaUrl, `${where}.schema_url`, ownerFindings);
        if ("name" in owner) {
          owner.name = redactText(owner.name, "scope.name", ownerFindings);
          owner.version = redactText(owner.version, "scope.version", ownerFindings);
        }
        shared.set(owner, ownerFindings);
      }
      found.push(...ownerFindings);
    }
    span.name = redactText(span.name, "name", found);
    span.traceState = redactText(span.traceState, "trace_state", found);
    span.statusMessage = redactText(span.statusMessage, "status.message", found);
    redactAttributes(span.attributes, "attributes", found);
    span.events.forEach((event, i) => {
      event.name = redactText(event.name, `events[${i}].name`, found);
      redactAttributes(event.attributes, `events[${i}].attributes`, found);
    });
    span.links.forEach((link, i) => {
      link.traceState = redactText(link.traceState, `links[${i}].trace_state`, found);
      redactAttributes(link.attributes, `links[${i}].attributes`, found);
    });
    return found;
  });
}

function redactAttributes(attrs: Attributes, prefix: string, found: SpanRedaction[]): void {
  for (const key of Object.keys(attrs)) {
    const value = attrs[key] as AnyValue;
    // A key can carry a credential too ({"sk_live_…": true}); its location names the redacted key.
    const safeKey = redactText(key, `${prefix} (a key)`, found);
    if (safeKey !== key) delete attrs[key];
    attrs[safeKey] = redactValue(value, `${prefix}.${safeKey}`, found);
  }
}

function redactValue(value: AnyValue, location: string, found: SpanRedaction[]): AnyValue {
  if ("stringValue" in value) {
    const text = redactText(value.stringValue, location, found);
    return text === value.stringValue ? value : { stringValue: text };
  }
  if ("arrayValue" in value) {
    value.arrayValue.values = value.arrayValue.values.map((v, i) => redactValue(v, `${location}[${i}]`, found));
  } else if ("kvlistValue" in value) {
    for (const kv of value.kvlistValue.values) {
      kv.key = redactText(kv.key, `${location} (a key)`, found);
      kv.value = redactValue(kv.value, `${location}.${kv.key}`, found);
    }
  }
  return value;
}

function redactText(text: string, location: string, found: SpanRedaction[]): string {
  const result = redactSecrets(text);
  for (const f of result.findings) found.push({ rule: f.rule, fingerprint: f.fingerprint, location });
  return result.text;
}
