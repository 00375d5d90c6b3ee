import type { Migration } from "../migrations";

/**
 * Alert delivery, insert-only like everything else:
 * - `notifications`: the outbox. A notification (one message to one receiver about one
 *   alert group) is stored before it is queued, so a crash loses none: at start, and
 *   periodically, every notification without a final outcome is queued again.
 * - `delivery_attempts`: every attempt, its status, latency and error; the final ones
 *   (delivered, failed, disabled) close a notification.
 * - `silences`: a new row per change; the latest row of a silence is its state
 *   (expiring one adds a row that ends it now).
 * - `alert_acks`: who acknowledged which alert, when and why.
 * - `receiver_state`: a receiver disabled (HTTP 410) or enabled again.
 * - `dispatch_cursor`: alerts created before it have all been routed.
 */
export const DELIVERY_MIGRATION: Migration = {
  version: 7,
  name: "alert delivery: outbox, attempts, silences, acknowledgements",
  statements: [
    `CREATE TABLE IF NOT EXISTS notifications (
      notification_id String,
      created_at DateTime64(3, 'UTC'),
      receiver LowCardinality(String),
      route String COMMENT 'the matching route, as its path in the routing tree',
      group_key String,
      dedup_key String COMMENT 'stable per alert group: PagerDuty dedup_key, webhook group id',
      kind LowCardinality(String) COMMENT 'firing or resolved',
      alert_ids Array(String) COMMENT 'every alert of the group at the time',
      new_alert_ids Array(String) COMMENT 'the alerts not notified before',
      group_labels String COMMENT 'JSON: the group_by labels and their values'
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(created_at)
    ORDER BY (created_at, notification_id)`,
    `CREATE TABLE IF NOT EXISTS delivery_attempts (
      notification_id String,
      receiver LowCardinality(String),
      attempt UInt16,
      at DateTime64(3, 'UTC'),
      status_code UInt16 COMMENT '0 when no HTTP response arrived',
      outcome LowCardinality(String) COMMENT 'delivered, retry, failed or disabled',
      latency_ms UInt32,
      error String
    ) ENGINE = MergeTree
    PARTITION BY toYYYYMM(at)
    ORDER BY (notification_id, at)`,
    `CREATE TABLE IF NOT EXISTS silences (
      silence_id String,
      changed_at DateTime64(3, 'UTC'),
      author String,
      reason String,
      matchers String COMMENT 'JSON: the labels the silence matches',
      starts_at DateTime64(3, 'UTC'),
      ends_at DateTime64(3, 'UTC')
    ) ENGINE = MergeTree
    ORDER BY (silence_id, changed_at)`,
    `CREATE TABLE IF NOT EXISTS alert_acks (
      alert_id String,
      acked_at DateTime64(3, 'UTC'),
      author String,
      note String
    ) ENGINE = MergeTree
    ORDER BY (alert_id, acked_at)`,
    `CREATE TABLE IF NOT EXISTS receiver_state (
      receiver LowCardinality(String),
      changed_at DateTime64(3, 'UTC'),
      disabled UInt8,
      reason String
    ) ENGINE = MergeTree
    ORDER BY (receiver, changed_at)`,
    `CREATE TABLE IF NOT EXISTS dispatch_cursor (
      updated_at DateTime64(3, 'UTC'),
      cursor_ms Int64
    ) ENGINE = MergeTree
    ORDER BY updated_at`,
  ],
};
