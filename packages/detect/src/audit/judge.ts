import type { AgentConfig, AuditConfig } from "@vigil/config";
import { UNMAPPED_DB_USER_AGENT } from "@vigil/config";
import { reportOf } from "@vigil/facts";
import {
  auditRecordDetails,
  findAuditSpansSince,
  findSpansOfOrigin,
  readAuditJudgedUntil,
  saveAuditJudgedUntil,
} from "@vigil/store";
import type { Alert, ClickHouseClient, DetectSpan } from "@vigil/store";
import { alertFor } from "../model";

/** At most this many audit records wait to be judged; past it the oldest are judged early. */
const MAX_HELD = 100_000;

/**
 * Reported vs observed. Each database audit record of an agent's database user is held
 * until its matching window has passed (the agent's span of the statement may arrive
 * after the database logged it: exporters batch for seconds), then set beside the spans
 * the agent reported around that time:
 *
 * - `unreported_action`: no span of the agent reports the same operation on the same
 *   table within the window. Critical when the statement was destructive.
 * - `telemetry_silent`: the agent sent no span at all for the silence period before the
 *   record while its database user was at work. One alert per agent per period.
 *
 * The judge's position (audit_judge_cursor: everything received before it is judged) is
 * saved after each judgement, so after a restart, however long the process was down,
 * every record held at the crash is read back and judged; alert ids are derived from
 * the record, so a record judged twice raises nothing twice.
 */
export class AuditJudge {
  private held: DetectSpan[] = [];
  private seeded = false;
  private savedUntil: number | undefined;
  /** Just past the newest receive time among the records judged so far (epoch ms). */
  private judgedUntil = 0;
  private readonly windowMs: number;
  private readonly silenceMs: number;

  constructor(config: Pick<AuditConfig, "match_window_seconds" | "silence_minutes">) {
    this.windowMs = config.match_window_seconds * 1000;
    this.silenceMs = config.silence_minutes * 60_000;
  }

  /** Audit records of a detection step, to judge once due. */
  hold(records: readonly DetectSpan[]): void {
    for (const r of records) if (r.agentId !== UNMAPPED_DB_USER_AGENT) this.held.push(r);
  }

  /** Records still waiting (for the bench and tests). */
  get waiting(): number {
    return this.held.length;
  }

  /** When the first held record's window has passed (epoch ms): detection should run then. */
  nextDueMs(): number | undefined {
    let next: number | undefined;
    for (const r of this.held) {
      const due = this.dueBy(r);
      if (next === undefined || due < next) next = due;
    }
    return next;
  }

  /** A record is judged once the window after it (in event and in receive time) has passed. */
  private dueBy(r: DetectSpan): number {
    return Math.max(nanosToMs(r.startTimeUnixNano), r.receivedAtMs) + this.windowMs;
  }

  /** Judges every held record whose window has passed; returns the alerts to store. */
  async judge(client: ClickHouseClient, nowMs: number, agents: ReadonlyMap<string, AgentConfig>): Promise<Alert[]> {
    if (!this.seeded) {
      this.seeded = true;
      // Records received since the judge last judged everything before them, as it stood
      // when it stopped (crash included); on a first start, the last windows' records.
      const judgedUntil = await readAuditJudgedUntil(client);
      this.hold(await findAuditSpansSince(client, judgedUntil ?? nowMs - 2 * this.windowMs - this.silenceMs));
      const seen = new Set<string>();
      this.held = this.held.filter((r) => !seen.has(r.traceId) && seen.add(r.traceId));
      this.savedUntil = judgedUntil;
    }
    const dueBy = (r: DetectSpan) => this.dueBy(r);
    const overflow = Math.max(0, this.held.length - MAX_HELD);
    const due = this.held.filter((r, i) => i < overflow || dueBy(r) <= nowMs);
    if (due.length === 0) return [];
    this.held = this.held.filter((r, i) => !(i < overflow || dueBy(r) <= nowMs));
    const alerts = await this.judgeDue(client, due, nowMs, agents);
    for (const r of due) this.judgedUntil = Math.max(this.judgedUntil, r.receivedAtMs + 1);
    return alerts;
  }

  /**
   * Saves the judge's position; call once the alerts `judge` returned are stored. Every
   * record received before the oldest one still held (with none held: up to the newest
   * judged) is judged. Written only when it moves.
   */
  async commit(client: ClickHouseClient): Promise<void> {
    let until = this.held.length > 0 ? Infinity : this.judgedUntil;
    for (const r of this.held) until = Math.min(until, r.receivedAtMs);
    if (until === this.savedUntil || !Number.isFinite(until) || until <= 0) return;
    await saveAuditJudgedUntil(client, until);
    this.savedUntil = until;
  }

  private async judgeDue(
    client: ClickHouseClient,
    due: readonly DetectSpan[],
    nowMs: number,
    agents: ReadonlyMap<string, AgentConfig>,
  ): Promise<Alert[]> {
    const byAgent = new Map<string, DetectSpan[]>();
    for (const r of due) {
      let list = byAgent.get(r.agentId);
      if (list === undefined) byAgent.set(r.agentId, (list = []));
      list.push(r);
    }
    const details = await auditRecordDetails(
      client,
      due.map((r) => r.traceId),
    );
    const alerts: Alert[] = [];
    for (const [agentId, records] of byAgent) {
      if (!agents.has(agentId)) continue;
      const times = records.map((r) => BigInt(r.startTimeUnixNano));
      const min = times.reduce((a, b) => (b < a ? b : a));
      const max = times.reduce((a, b) => (b > a ? b : a));
      const windowNs = BigInt(this.windowMs) * 1_000_000n;
      const silenceNs = BigInt(this.silenceMs) * 1_000_000n;
      const reported = await findSpansOfOrigin(
        client,
        agentId,
        "agent",
        String(min - (silenceNs > windowNs ? silenceNs : windowNs)),
        String(max + windowNs),
      );
      const reportedTimes = reported.map((s) => BigInt(s.startTimeUnixNano));
      for (const record of records) {
        const t = BigInt(record.startTimeUnixNano);
        const inWindow = reported.filter((_s, i) => {
          const d = (reportedTimes[i] as bigint) - t;
          return d >= -windowNs && d <= windowNs;
        });
        const detail = details.get(record.traceId);
        const evidence = {
          observed: {
            source: detail?.source ?? "",
            database_user: detail?.user ?? record.facts.credentialId,
            database: detail?.database ?? "",
            command: detail?.command ?? record.facts.dbOperation,
            tables: record.facts.dbTables,
            statement: detail?.statement ?? "",
            time: new Date(nanosToMs(record.startTimeUnixNano)).toISOString(),
            // A statement the database refused: the agent tried what its grants forbid.
            refused: (detail?.error ?? "") !== "",
            error: detail?.error ?? "",
          },
          reported: {
            window_seconds: this.windowMs / 1000,
            database_spans_in_window: inWindow.filter((s) => s.facts.dbSystem !== "" || s.facts.dbTables.length > 0)
              .length,
            spans_in_window: inWindow.length,
          },
        };
        const who = `${detail?.user ?? record.facts.credentialId}`;
        const what = `${evidence.observed.command}${record.facts.dbTables.length > 0 ? ` on ${record.facts.dbTables.join(", ")}` : ""}`;
        const silentSince = t - silenceNs;
        const anySpanBefore = reported.some((_s, i) => {
          const at = reportedTimes[i] as bigint;
          return at >= silentSince && at <= t + windowNs;
        });
        if (!anySpanBefore) {
          const period = Number(t / silenceNs);
          alerts.push(
            alertFor(
              record,
              {
                detector: "telemetry_silent",
                score: 80,
                summary: `${agentId}'s database user ${who} is active but ${agentId} has sent no spans for ${this.silenceMs / 60_000} minutes`,
                explanation:
                  "The database logged statements under the agent's database user while the agent reported nothing: " +
                  "its tracer may be off, broken or disabled on purpose. What the database saw is in the evidence.",
                evidence,
                subject: `silent/${period}`,
              },
              nowMs,
            ),
          );
        }
        if (reportOf(record, inWindow, windowNs) !== undefined) continue;
        alerts.push(
          alertFor(
            record,
            {
              detector: "unreported_action",
              score: record.facts.destructive ? 95 : 80,
              summary: `the database ${evidence.observed.refused ? "refused" : "saw"} ${what} by ${who} (${agentId}) that no span of ${agentId} reported`,
              explanation:
                `No span the agent sent within ${this.windowMs / 1000} s of the database's record reports this ` +
                "operation on this table. The agent's own trace leaves out what its credential did" +
                (record.facts.destructive
                  ? `, and the statement was destructive (${record.facts.destructiveReason}).`
                  : "."),
              evidence,
            },
            nowMs,
          ),
        );
      }
    }
    return alerts;
  }
}

function nanosToMs(ns: string): number {
  return Number(BigInt(ns) / 1_000_000n);
}
