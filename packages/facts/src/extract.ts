import {
  ATTR_VIGIL_APPROVAL_ID,
  ATTR_VIGIL_APPROVAL_STATUS,
  ATTR_VIGIL_CALLER_AGENT,
  ATTR_VIGIL_CREDENTIAL_ID,
  ATTR_VIGIL_PEER_AGENT,
} from "@vigil/common/attributes";
import type { Attributes, Span } from "@vigil/otlp";
import { firstText, text, texts } from "./attributes";
import { readAiSdk } from "./conventions/ai-sdk";
import { readAdkTransfer } from "./conventions/adk";
import { mcpPeer, readMcp } from "./conventions/mcp";
import { readOpenInference } from "./conventions/openinference";
import { readTraceloop } from "./conventions/traceloop";
import { outboundHost } from "./hosts";
import { emptyFacts } from "./model";
import type { SpanFacts } from "./model";
import { dialectFor } from "./sql/model";
import { sqlTables } from "./sql/statement-tables";

/** The longest causing input kept per span (characters); longer inputs are cut with a marker. */
export const MAX_INPUT_LENGTH = 8192;

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

/** Where the input that caused a step is found, in order of preference. */
const INPUT_ATTRIBUTES = ["gen_ai.input.messages", "gen_ai.prompt", "gen_ai.tool.call.arguments"] as const;
const INPUT_EVENTS: Record<string, readonly string[]> = {
  "gen_ai.client.inference.operation.details": ["gen_ai.input.messages"],
  "gen_ai.user.message": ["content", "gen_ai.prompt"],
  "gen_ai.tool.message": ["content"],
  "gen_ai.system.message": ["content"],
  "gen_ai.content.prompt": ["gen_ai.prompt"],
};

/** Operations that destroy data or schema when named in db.operation.name without query text. */
const DESTRUCTIVE_OPERATIONS = new Set(["DROP", "TRUNCATE", "ALTER", "DELETE"]);

export interface ExtractOptions {
  /** Host name → agent id, for agents reachable over the network (a CLIENT span to one is a peer call). */
  agentHosts?: ReadonlyMap<string, string>;
}

/**
 * Reads the security facts of one span, following the OpenTelemetry semantic
 * conventions (GenAI, database, HTTP client) and Vigil's `vigil.*` attributes where no
 * convention exists. Never throws: a span with no such attributes gets empty facts.
 */
export function extractFacts(span: Span, options: ExtractOptions = {}): SpanFacts {
  const a = span.attributes;
  const r = span.resource.attributes;
  const f = emptyFacts();

  f.operation = text(a, "gen_ai.operation.name");
  // On an invoke_agent CLIENT span, gen_ai.agent.* describe the agent being called.
  const callsAgent = span.kind === SPAN_KIND_CLIENT && f.operation === "invoke_agent";
  f.claimedAgent = callsAgent
    ? text(r, "service.name")
    : // gen_ai.agent.name is a display name ("Support Agent", a sub-agent's name): libraries
      // set it freely, so only an id (gen_ai.agent.id, service.name) claims an identity.
      text(a, "gen_ai.agent.id") || text(r, "service.name");
  f.sessionId = firstText(a, ["session.id", "gen_ai.conversation.id"])[0];
  f.environment =
    firstText(a, ["deployment.environment.name", "deployment.environment"])[0] ||
    firstText(r, ["deployment.environment.name", "deployment.environment"])[0];
  f.tool = text(a, "gen_ai.tool.name");
  f.credentialId = text(a, ATTR_VIGIL_CREDENTIAL_ID);
  f.outboundHost = outboundHost(text(a, "server.address"), text(a, "url.full"));
  // The HTTP and network keys before the stable semconv (instrumentation-http and -undici
  // before mid-2026, and every library still on them): on a call out only, since a server
  // span's http.host is its own name.
  if (f.outboundHost === "" && span.kind === SPAN_KIND_CLIENT) {
    const peer = text(a, "net.peer.name") || text(a, "http.host").replace(/:\d+$/, "");
    f.outboundHost = outboundHost(peer, text(a, "http.url"));
    if (f.outboundHost !== "") f.dialect = "otel-old-semconv";
  }

  f.peerAgent = text(a, ATTR_VIGIL_PEER_AGENT);
  if (f.peerAgent === "" && callsAgent) f.peerAgent = firstText(a, ["gen_ai.agent.id", "gen_ai.agent.name"])[0];
  // The called side: the caller's identity arrives as baggage, recorded by the SDK.
  if (f.peerAgent === "" && span.kind === SPAN_KIND_SERVER) f.peerAgent = text(a, ATTR_VIGIL_CALLER_AGENT);
  if (f.peerAgent === "" && span.kind === SPAN_KIND_CLIENT && f.outboundHost !== "") {
    f.peerAgent = options.agentHosts?.get(f.outboundHost) ?? "";
  }

  readDatabase(a, f);
  readInput(span, f);
  readApproval(span, f);
  readMcp(span, f);
  readAdkTransfer(span, f);
  // Libraries that predate or ignore the GenAI conventions fill what those left empty.
  if (readAiSdk(span, f)) f.dialect = "ai-sdk";
  else if (readOpenInference(span, f)) f.dialect = "openinference";
  else if (readTraceloop(span, f)) f.dialect = "traceloop";
  mcpPeer(span, f);
  if (f.input.length > MAX_INPUT_LENGTH) f.input = `${f.input.slice(0, MAX_INPUT_LENGTH)}…[truncated]`;
  return f;
}

function readDatabase(a: Attributes, f: SpanFacts): void {
  f.dbSystem = firstText(a, ["db.system.name", "db.system"])[0];
  const declaredOperation = firstText(a, ["db.operation.name", "db.operation"])[0].toUpperCase();
  // db.sql.table: the database semconv before db.collection.name.
  const tables = [...texts(a, "db.collection.name"), ...texts(a, "db.sql.table")].map((t) => t.toLowerCase());
  const query = firstText(a, ["db.query.text", "db.statement"])[0];
  if (query !== "") {
    const sql = sqlTables(query, dialectFor(f.dbSystem));
    tables.push(...sql.tables);
    f.dbTablesWritten = [...sql.written];
    f.dbStatementKinds = [...sql.kinds];
    f.dbTablesApproximate = sql.approximate;
    if (sql.destructive !== "") {
      f.destructive = true;
      f.destructiveReason = sql.destructive;
    }
  }
  f.dbTables = [...new Set(tables)];
  f.dbOperation = declaredOperation || (f.dbStatementKinds[0] ?? "");
  if (!f.destructive && query === "" && DESTRUCTIVE_OPERATIONS.has(f.dbOperation)) {
    f.destructive = true;
    f.destructiveReason = f.dbOperation;
  }
  if (f.dbTablesWritten.length === 0 && query === "" && f.dbOperation !== "" && f.dbOperation !== "SELECT") {
    f.dbTablesWritten = f.dbTables;
  }
}

function readInput(span: Span, f: SpanFacts): void {
  let [input, source] = firstText(span.attributes, INPUT_ATTRIBUTES);
  if (input === "") {
    for (const event of span.events) {
      const keys = INPUT_EVENTS[event.name];
      if (keys === undefined) continue;
      const [v] = firstText(event.attributes, keys);
      if (v !== "") {
        input = v;
        source = event.name;
        break;
      }
    }
  }
  f.input = input;
  f.inputSource = source;
}

function readApproval(span: Span, f: SpanFacts): void {
  f.approvalId = text(span.attributes, ATTR_VIGIL_APPROVAL_ID);
  f.approvalStatus = text(span.attributes, ATTR_VIGIL_APPROVAL_STATUS);
  if (f.approvalId !== "" || f.approvalStatus !== "") return;
  for (const event of span.events) {
    const id = text(event.attributes, ATTR_VIGIL_APPROVAL_ID);
    const status = text(event.attributes, ATTR_VIGIL_APPROVAL_STATUS);
    if (id !== "" || status !== "") {
      f.approvalId = id;
      f.approvalStatus = status;
      return;
    }
  }
}
