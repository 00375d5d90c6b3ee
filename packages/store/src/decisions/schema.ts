import type { Migration } from "../migrations";
import { ledgerTableDdl } from "../ledger/schema";

/**
 * The confirmation gate's audit trail: every request an agent made before acting, every
 * answer (Vigil's own allow / deny, a human's approve / deny, expiry) with who gave it
 * and why. Insert-only: a decision's history is its rows in time order, and the first
 * answer after the request is final. `token` is set on an approval only: the signed
 * token the agent collects; the table is not readable through the SQL endpoint.
 */
export const DECISIONS_MIGRATION: Migration = {
  version: 10,
  name: "confirmation gate decisions",
  statements: [
    `CREATE TABLE IF NOT EXISTS decisions (
      decision_id String,
      event LowCardinality(String) COMMENT 'requested, allowed, denied, approved or expired',
      at DateTime64(3, 'UTC'),
      agent_id LowCardinality(String),
      session_id String,
      trace_id String,
      action_kind LowCardinality(String),
      action_digest String,
      rendering String COMMENT 'Vigil''s own description of the action, from its facts',
      description String COMMENT 'the agent''s own words (redacted)',
      facts String,
      reasons Array(String),
      actor String COMMENT 'vigil, or the person who decided (API key name, slack:<user>)',
      justification String,
      expires_at DateTime64(3, 'UTC'),
      token String
    ) ENGINE = MergeTree
    ORDER BY (decision_id, at)`,
  ],
};

/**
 * Decisions are ledgered: each row carries the batch it was written in, and each batch
 * is an entry on its writer's `decisions@<writer>` chain (see DecisionLog), in a ledger
 * table of their own, the spans' ledger's twin: the API's store user may append to it
 * and not to the spans' chains.
 */
export const DECISIONS_LEDGER_MIGRATION: Migration = {
  version: 19,
  name: "decisions ledgered in batches",
  statements: [
    "ALTER TABLE decisions ADD COLUMN IF NOT EXISTS batch_id UUID COMMENT 'the ledger batch the row was written in'",
    ledgerTableDdl("decision_ledger"),
  ],
};
