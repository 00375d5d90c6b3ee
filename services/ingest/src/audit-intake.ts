import { createHash } from "node:crypto";
import { InputError, UnavailableError } from "@vigil/common";
import type { Logger } from "@vigil/common";
import { auditRecordSpan, parseAuditRecord } from "@vigil/audit";
import type { AuditConfig, AuditSourceConfig, DatabaseUserConfig } from "@vigil/config";
import { extractFacts } from "@vigil/facts";
import { redactSpans } from "@vigil/secrets";
import { UNMAPPED_DB_USER_AGENT } from "@vigil/config";
import { AUDIT_DIGEST_PREFIX, detectSpansOf, encodeSpanRows } from "@vigil/store";
import type { SpanBatcher } from "./batcher";
import type { RequestDedup } from "./dedup";
import type { IngestStats } from "./stats";

/** What became of the lines handed in at once. */
export interface AuditIntakeResult {
  stored: number;
  /** Stored earlier (the same line from the same source): not stored again. */
  duplicates: number;
  /** Log lines that are not audit entries of a statement (other log messages, connects). */
  ignored: number;
  rejected: number;
  /** Why lines were rejected (distinct reasons, a few at most; never the lines). */
  reasons: string[];
}

/**
 * Database audit records into the store, through the same group commit, ledger and
 * redaction as agents' spans. Each record is stored as a row of the spans table under
 * the agent its database user is mapped to (or UNMAPPED_DB_USER_AGENT: kept and shown,
 * never dropped), and its request digest is AUDIT_DIGEST_PREFIX plus a digest of
 * source and line. Agents' digests are plain hex, so no agent can store a row that
 * reads as the database's; and the same line read twice (a reader restarted between
 * commit and saving its position, a collector retrying) is stored once.
 */
export class AuditIntake {
  private readonly sources: Map<string, { config: AuditSourceConfig; users: Map<string, DatabaseUserConfig> }>;

  constructor(
    audit: AuditConfig,
    private readonly deps: {
      batcher: SpanBatcher;
      dedup: RequestDedup;
      stats: IngestStats;
      logger: Logger;
      handOffSpans?: boolean;
    },
  ) {
    this.sources = new Map(
      audit.sources.map((s) => [
        s.id,
        {
          config: s,
          users: new Map(s.users.map((u) => [u.user, u])),
        },
      ]),
    );
  }

  source(id: string): AuditSourceConfig | undefined {
    return this.sources.get(id)?.config;
  }

  /**
   * Parses and stores the lines (each one log record) of one source; resolves once every
   * stored record is committed and ledgered. A line that cannot be parsed is rejected
   * alone; when the store cannot take the rows, the promise rejects (retry the lines).
   */
  async store(sourceId: string, lines: readonly string[], receivedAtMs: number): Promise<AuditIntakeResult> {
    const source = this.sources.get(sourceId);
    if (source === undefined) throw new InputError(`no audit source "${sourceId}" is configured`, 404);
    const result: AuditIntakeResult = { stored: 0, duplicates: 0, ignored: 0, rejected: 0, reasons: [] };
    const writes: Array<Promise<void>> = [];
    for (const line of lines) {
      let record;
      try {
        record = parseAuditRecord(source.config.format, line, source.config.utc_offset_minutes);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        result.rejected++;
        if (result.reasons.length < 5 && !result.reasons.includes(err.message)) result.reasons.push(err.message);
        continue;
      }
      if (record === undefined) {
        result.ignored++;
        continue;
      }
      const digest = `${AUDIT_DIGEST_PREFIX}${createHash("sha256").update(sourceId).update("\0").update(line).digest("hex").slice(0, 32)}`;
      if (this.deps.dedup.isCommitted(digest)) {
        result.duplicates++;
        continue;
      }
      if (this.deps.dedup.isUnresolved(digest))
        throw new UnavailableError(
          "an earlier copy of these records may be stored and is being checked; retry later",
          1,
        );
      const twin = this.deps.dedup.pending(digest);
      if (twin !== undefined) {
        writes.push(twin);
        result.duplicates++;
        continue;
      }
      const span = auditRecordSpan(record, sourceId, line);
      const [redactions = []] = redactSpans([span]);
      const facts = extractFacts(span);
      const mapped = source.users.get(record.user);
      facts.environment = mapped?.environment ?? "";
      // The database user is the credential the statement ran under.
      facts.credentialId = mapped?.credential ?? `${record.system}:${record.user}`;
      const agentId = mapped?.agent ?? UNMAPPED_DB_USER_AGENT;
      writes.push(
        this.deps.dedup.track(
          digest,
          this.deps.batcher.submit(
            1,
            (batchId) => {
              const ctx = { batchId, agentId, receivedAtMs, requestDigest: digest };
              // The database's own log, read by Vigil: no agent states its times.
              const integrity = [{ redactions, impersonatedAgent: "", backfill: false }];
              const rows = encodeSpanRows([span], [facts], integrity, ctx);
              return this.deps.handOffSpans === true
                ? { ...rows, spans: detectSpansOf([span], [facts], integrity, ctx) }
                : rows;
            },
            digest,
          ),
        ),
      );
      result.stored++;
      if (redactions.length > 0) this.deps.stats.redacted(redactions.length);
    }
    await Promise.all(writes);
    this.deps.stats.stored(result.stored);
    return result;
  }
}
