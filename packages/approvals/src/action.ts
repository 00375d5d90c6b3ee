import { ATTR_VIGIL_CREDENTIAL_ID } from "@vigil/common/attributes";
import { createHash } from "node:crypto";
import { extractFacts } from "@vigil/facts";
import type { ExtractOptions, SpanFacts } from "@vigil/facts";
import type { Attributes, Span } from "@vigil/otlp";

/**
 * The action an agent asks to run, as it will appear on the span that runs it: a
 * database statement, a tool call or an outbound HTTP request. The same identity is read
 * from the request to the gate and from the later span, so an approval binds to exactly
 * the statement (arguments, URL) a human saw.
 */
export type Action =
  | { kind: "db"; system: string; statement: string; credentialId?: string }
  | { kind: "tool"; name: string; arguments: unknown }
  | { kind: "http"; method: string; url: string; credentialId?: string };

/** The span attributes the SDK (and the OTel conventions) give a step running `action`. */
export function actionAttributes(action: Action, sessionId: string): Attributes {
  const s = (v: string) => ({ stringValue: v });
  const a: Attributes = Object.create(null) as Attributes;
  if (sessionId !== "") a["session.id"] = s(sessionId);
  switch (action.kind) {
    case "db":
      a["db.system.name"] = s(action.system);
      a["db.query.text"] = s(action.statement);
      if (action.credentialId !== undefined) a[ATTR_VIGIL_CREDENTIAL_ID] = s(action.credentialId);
      break;
    case "tool":
      a["gen_ai.operation.name"] = s("execute_tool");
      a["gen_ai.tool.name"] = s(action.name);
      a["gen_ai.tool.call.arguments"] = s(JSON.stringify(action.arguments ?? {}));
      break;
    case "http": {
      a["http.request.method"] = s(action.method.toUpperCase());
      a["url.full"] = s(action.url);
      a["server.address"] = s(new URL(action.url).hostname);
      if (action.credentialId !== undefined) a[ATTR_VIGIL_CREDENTIAL_ID] = s(action.credentialId);
      break;
    }
  }
  return a;
}

/** The facts Vigil reads from a step running `action`: what the gate judges. */
export function actionFacts(action: Action, sessionId: string, options: ExtractOptions = {}): SpanFacts {
  const attributes = actionAttributes(action, sessionId);
  const span: Span = {
    traceId: "",
    spanId: "",
    parentSpanId: "",
    traceState: "",
    flags: 0,
    name: action.kind,
    kind: action.kind === "tool" ? 1 : 3,
    startTimeUnixNano: "0",
    endTimeUnixNano: "0",
    attributes,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    statusCode: 0,
    statusMessage: "",
    resource: { attributes: Object.create(null) as Attributes, droppedAttributesCount: 0, schemaUrl: "" },
    scope: {
      name: "",
      version: "",
      attributes: Object.create(null) as Attributes,
      droppedAttributesCount: 0,
      schemaUrl: "",
    },
  };
  return extractFacts(span, options);
}

const textOf = (a: Attributes, key: string): string => {
  const v = a[key];
  return v !== undefined && "stringValue" in v ? v.stringValue : "";
};

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same arguments. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

function parsedArguments(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * The digest of the action a span (or a gate request, through `actionAttributes`)
 * describes, or "" when the span runs none of the three kinds. Hex SHA-256 of a
 * versioned canonical text: kind, then the fields that say what runs.
 */
export function actionDigestOf(a: Attributes): string {
  const system = textOf(a, "db.system.name") || textOf(a, "db.system");
  const statement = textOf(a, "db.query.text") || textOf(a, "db.statement");
  const tool = textOf(a, "gen_ai.tool.name");
  const method = textOf(a, "http.request.method") || textOf(a, "http.method");
  const url = textOf(a, "url.full") || textOf(a, "http.url");
  let canonical: string;
  if (statement !== "") canonical = `db\n${system}\n${statement.trim()}`;
  else if (tool !== "")
    canonical = `tool\n${tool}\n${canonicalJson(parsedArguments(textOf(a, "gen_ai.tool.call.arguments") || "{}"))}`;
  else if (method !== "" && url !== "") canonical = `http\n${method.toUpperCase()}\n${url}`;
  else return "";
  return createHash("sha256").update(`vigil-action-v1\n${canonical}`).digest("hex");
}

/** Vigil's own words for an action, from its facts: what the approver reads first. */
export function renderAction(action: Action, facts: SpanFacts, sessionId: string): string {
  const where = sessionId === "" ? "" : `, session ${sessionId}`;
  const credential = facts.credentialId === "" ? "" : `, credential ${facts.credentialId}`;
  switch (action.kind) {
    case "db": {
      const tables = facts.dbTables.length > 0 ? ` ${facts.dbTables.join(", ")}` : "";
      const what = facts.destructiveReason !== "" ? facts.destructiveReason : facts.dbOperation || "statement";
      return `${what}${tables} on ${action.system || "a database"}${credential}${where}`;
    }
    case "tool":
      return `tool ${action.name} with ${canonicalJson(action.arguments ?? {}).slice(0, 300)}${where}`;
    case "http":
      return `${action.method.toUpperCase()} ${action.url}${credential}${where}`;
  }
}
