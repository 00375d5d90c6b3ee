import { createHash } from "node:crypto";
import { newAttributes } from "@vigil/otlp";
import type { AnyValue, Span } from "@vigil/otlp";
import type { AuditRecord } from "./record";

/**
 * The instrumentation scope of every stored audit record, for readers. It is not what
 * marks a row as the database's (an agent may name any scope): the request digest is.
 */
export const AUDIT_SCOPE = "vigil.db-audit";

const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;

/**
 * An audit record in the shape of a span, so that it is stored, redacted, ledgered and
 * read into facts by the very code that handles agents' spans: the database's own
 * record, with the OpenTelemetry database attributes a client span of the statement
 * would carry.
 *
 * pgAudit names the relation and the command of each entry (one entry per relation),
 * while its statement text may hold several statements: where it names the relation,
 * the facts come from command and relation, not from parsing the text. MariaDB's QUERY
 * events carry one statement each, parsed like a span's db.query.text.
 *
 * Ids are digests of the source and the record's raw text, so the same line read twice
 * is the same span.
 */
export function auditRecordSpan(record: AuditRecord, sourceId: string, rawLine: string): Span {
  const digest = createHash("sha256").update(sourceId).update("\0").update(rawLine).digest("hex");
  const a = newAttributes();
  const set = (key: string, value: AnyValue) => (a[key] = value);
  set("db.system.name", { stringValue: record.system });
  if (record.database !== "") set("db.namespace", { stringValue: record.database });
  const operation = record.command.split(" ")[0] ?? "";
  if (record.objectName !== "") {
    set("db.operation.name", { stringValue: operation });
    set("db.collection.name", { stringValue: record.objectName });
  } else if (record.statement !== "") {
    set("db.query.text", { stringValue: record.statement });
  }
  if (record.clientAddress !== "") set("client.address", { stringValue: record.clientAddress });
  set("vigil.audit.source", { stringValue: sourceId });
  set("vigil.audit.user", { stringValue: record.user });
  set("vigil.audit.command", { stringValue: record.command });
  set("vigil.audit.statement", { stringValue: record.statement });
  set("vigil.audit.connection", { stringValue: record.connection });
  if (!record.succeeded) set("vigil.audit.error", { stringValue: record.error });
  return {
    traceId: digest.slice(0, 32),
    spanId: digest.slice(32, 48),
    parentSpanId: "",
    traceState: "",
    flags: 0,
    name: `${record.command} ${record.objectName}`.trim() || "statement",
    kind: SPAN_KIND_SERVER,
    startTimeUnixNano: record.timeUnixNano,
    endTimeUnixNano: record.timeUnixNano,
    attributes: a,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    statusCode: record.succeeded ? 0 : STATUS_ERROR,
    statusMessage: record.succeeded ? "" : "the database refused the statement",
    resource: { attributes: newAttributes(), droppedAttributesCount: 0, schemaUrl: "" },
    scope: { name: AUDIT_SCOPE, version: "", attributes: newAttributes(), droppedAttributesCount: 0, schemaUrl: "" },
  };
}
