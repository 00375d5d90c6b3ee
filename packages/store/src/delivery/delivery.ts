import type { ClickHouseClient } from "@clickhouse/client";

/** One message to one receiver about one alert group. */
export interface Notification {
  notificationId: string;
  createdAtMs: number;
  receiver: string;
  route: string;
  groupKey: string;
  dedupKey: string;
  kind: "firing" | "resolved";
  alertIds: string[];
  newAlertIds: string[];
  groupLabels: Record<string, string>;
}

export type DeliveryOutcome = "delivered" | "retry" | "failed" | "disabled";

export interface DeliveryAttempt {
  notificationId: string;
  receiver: string;
  attempt: number;
  atMs: number;
  statusCode: number;
  outcome: DeliveryOutcome;
  latencyMs: number;
  error: string;
}

interface NotificationRow {
  notification_id: string;
  created_ms: string;
  receiver: string;
  route: string;
  group_key: string;
  dedup_key: string;
  kind: "firing" | "resolved";
  alert_ids: string[];
  new_alert_ids: string[];
  group_labels: string;
}

const SELECT_NOTIFICATION = `SELECT notification_id, toString(toUnixTimestamp64Milli(created_at)) AS created_ms, receiver, route,
  group_key, dedup_key, kind, alert_ids, new_alert_ids, group_labels FROM notifications`;

function toNotification(r: NotificationRow): Notification {
  return {
    notificationId: r.notification_id,
    createdAtMs: Number(r.created_ms),
    receiver: r.receiver,
    route: r.route,
    groupKey: r.group_key,
    dedupKey: r.dedup_key,
    kind: r.kind,
    alertIds: r.alert_ids,
    newAlertIds: r.new_alert_ids,
    groupLabels: JSON.parse(r.group_labels) as Record<string, string>,
  };
}

export async function insertNotifications(client: ClickHouseClient, list: readonly Notification[]): Promise<void> {
  if (list.length === 0) return;
  await client.insert({
    table: "notifications",
    format: "JSONEachRow",
    values: list.map((n) => ({
      notification_id: n.notificationId,
      created_at: String(n.createdAtMs),
      receiver: n.receiver,
      route: n.route,
      group_key: n.groupKey,
      dedup_key: n.dedupKey,
      kind: n.kind,
      alert_ids: n.alertIds,
      new_alert_ids: n.newAlertIds,
      group_labels: JSON.stringify(n.groupLabels),
    })),
  });
}

export async function findNotification(client: ClickHouseClient, id: string): Promise<Notification | undefined> {
  const rs = await client.query({
    query: `${SELECT_NOTIFICATION} WHERE notification_id = {id:String} LIMIT 1`,
    query_params: { id },
    format: "JSONEachRow",
  });
  const [row] = await rs.json<NotificationRow>();
  return row === undefined ? undefined : toNotification(row);
}

/** Notifications created since `sinceMs`, oldest first. */
export async function notificationsSince(client: ClickHouseClient, sinceMs: number): Promise<Notification[]> {
  const rs = await client.query({
    query: `${SELECT_NOTIFICATION} WHERE created_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
            ORDER BY created_at, notification_id`,
    query_params: { since: sinceMs },
    format: "JSONEachRow",
  });
  return (await rs.json<NotificationRow>()).map(toNotification);
}

/** Notifications since `sinceMs` with no final outcome (delivered, failed, disabled) yet. */
export async function undeliveredNotifications(client: ClickHouseClient, sinceMs: number): Promise<Notification[]> {
  const rs = await client.query({
    query: `${SELECT_NOTIFICATION} WHERE created_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')
              AND notification_id NOT IN (SELECT notification_id FROM delivery_attempts WHERE outcome != 'retry')
            ORDER BY created_at, notification_id`,
    query_params: { since: sinceMs },
    format: "JSONEachRow",
  });
  return (await rs.json<NotificationRow>()).map(toNotification);
}

export async function recordAttempt(client: ClickHouseClient, a: DeliveryAttempt): Promise<void> {
  await client.insert({
    table: "delivery_attempts",
    format: "JSONEachRow",
    values: [
      {
        notification_id: a.notificationId,
        receiver: a.receiver,
        attempt: a.attempt,
        at: String(a.atMs),
        status_code: a.statusCode,
        outcome: a.outcome,
        latency_ms: Math.round(a.latencyMs),
        error: a.error.slice(0, 2000),
      },
    ],
  });
}

/** Attempts, newest first, optionally of one notification or receiver. */
export async function findAttempts(
  client: ClickHouseClient,
  filter: { notificationId?: string; receiver?: string; limit?: number } = {},
): Promise<DeliveryAttempt[]> {
  const where: string[] = [];
  if (filter.notificationId !== undefined) where.push("notification_id = {n:String}");
  if (filter.receiver !== undefined) where.push("receiver = {r:String}");
  const rs = await client.query({
    query: `SELECT notification_id, receiver, attempt, toString(toUnixTimestamp64Milli(at)) AS at_ms, status_code, outcome,
              latency_ms, error FROM delivery_attempts ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
            ORDER BY at DESC LIMIT {limit:UInt32}`,
    query_params: { n: filter.notificationId ?? "", r: filter.receiver ?? "", limit: filter.limit ?? 1000 },
    format: "JSONEachRow",
  });
  type Row = {
    notification_id: string;
    receiver: string;
    attempt: number;
    at_ms: string;
    status_code: number;
    outcome: DeliveryOutcome;
    latency_ms: number;
    error: string;
  };
  return (await rs.json<Row>()).map((r) => ({
    notificationId: r.notification_id,
    receiver: r.receiver,
    attempt: Number(r.attempt),
    atMs: Number(r.at_ms),
    statusCode: Number(r.status_code),
    outcome: r.outcome,
    latencyMs: Number(r.latency_ms),
    error: r.error,
  }));
}

/** A silence: alerts matching `matchers` between `startsAtMs` and `endsAtMs` are not notified. */
export interface Silence {
  silenceId: string;
  changedAtMs: number;
  author: string;
  reason: string;
  matchers: Record<string, string[]>;
  startsAtMs: number;
  endsAtMs: number;
}

export async function insertSilence(client: ClickHouseClient, s: Silence): Promise<void> {
  await client.insert({
    table: "silences",
    format: "JSONEachRow",
    values: [
      {
        silence_id: s.silenceId,
        changed_at: String(s.changedAtMs),
        author: s.author,
        reason: s.reason,
        matchers: JSON.stringify(s.matchers),
        starts_at: String(s.startsAtMs),
        ends_at: String(s.endsAtMs),
      },
    ],
  });
}

/** The current state of every silence (its latest row), newest first. */
export async function listSilences(client: ClickHouseClient): Promise<Silence[]> {
  const rs = await client.query({
    query: `SELECT silence_id, toString(toUnixTimestamp64Milli(changed_at)) AS changed_ms, author, reason, matchers,
              toString(toUnixTimestamp64Milli(starts_at)) AS starts_ms, toString(toUnixTimestamp64Milli(ends_at)) AS ends_ms
            FROM silences ORDER BY silence_id, changed_at DESC LIMIT 1 BY silence_id`,
    format: "JSONEachRow",
  });
  type Row = {
    silence_id: string;
    changed_ms: string;
    author: string;
    reason: string;
    matchers: string;
    starts_ms: string;
    ends_ms: string;
  };
  return (await rs.json<Row>())
    .map((r) => ({
      silenceId: r.silence_id,
      changedAtMs: Number(r.changed_ms),
      author: r.author,
      reason: r.reason,
      matchers: JSON.parse(r.matchers) as Record<string, string[]>,
      startsAtMs: Number(r.starts_ms),
      endsAtMs: Number(r.ends_ms),
    }))
    .sort((a, b) => b.startsAtMs - a.startsAtMs);
}

export interface AlertAck {
  alertId: string;
  ackedAtMs: number;
  author: string;
  note: string;
}

export async function insertAck(client: ClickHouseClient, ack: AlertAck): Promise<void> {
  await client.insert({
    table: "alert_acks",
    format: "JSONEachRow",
    values: [{ alert_id: ack.alertId, acked_at: String(ack.ackedAtMs), author: ack.author, note: ack.note }],
  });
}

/** The first acknowledgement of each of these alerts (unacknowledged ones are absent). */
export async function acksOf(client: ClickHouseClient, alertIds: readonly string[]): Promise<Map<string, AlertAck>> {
  if (alertIds.length === 0) return new Map();
  const rs = await client.query({
    query: `SELECT alert_id, toString(toUnixTimestamp64Milli(acked_at)) AS acked_ms, author, note FROM alert_acks
            WHERE alert_id IN {ids:Array(String)} ORDER BY alert_id, acked_at LIMIT 1 BY alert_id`,
    query_params: { ids: alertIds },
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ alert_id: string; acked_ms: string; author: string; note: string }>();
  return new Map(
    rows.map((r) => [
      r.alert_id,
      { alertId: r.alert_id, ackedAtMs: Number(r.acked_ms), author: r.author, note: r.note },
    ]),
  );
}

/** Receivers currently disabled (a 410 Gone), with why. */
export async function disabledReceivers(client: ClickHouseClient): Promise<Map<string, string>> {
  const rs = await client.query({
    query: `SELECT receiver AS name, disabled, reason FROM receiver_state ORDER BY receiver, changed_at DESC LIMIT 1 BY receiver`,
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ name: string; disabled: number; reason: string }>();
  return new Map(rows.filter((r) => r.disabled === 1).map((r) => [r.name, r.reason]));
}

export async function setReceiverState(
  client: ClickHouseClient,
  receiver: string,
  disabled: boolean,
  reason: string,
): Promise<void> {
  await client.insert({
    table: "receiver_state",
    format: "JSONEachRow",
    values: [{ receiver, changed_at: String(Date.now()), disabled: disabled ? 1 : 0, reason }],
  });
}

export async function readDispatchCursor(client: ClickHouseClient): Promise<number | undefined> {
  const rs = await client.query({
    query: "SELECT toString(max(cursor_ms)) AS c, count() AS n FROM dispatch_cursor",
    format: "JSONEachRow",
  });
  const [row] = await rs.json<{ c: string; n: string }>();
  return row === undefined || Number(row.n) === 0 ? undefined : Number(row.c);
}

export async function advanceDispatchCursor(client: ClickHouseClient, cursorMs: number): Promise<void> {
  await client.insert({
    table: "dispatch_cursor",
    format: "JSONEachRow",
    values: [{ updated_at: String(Date.now()), cursor_ms: String(cursorMs) }],
  });
}

/** Every delivery attempt of the notifications that carried an alert, oldest first. */
export async function deliveriesOfAlert(
  client: ClickHouseClient,
  alertId: string,
): Promise<Array<DeliveryAttempt & { kind: string }>> {
  const rs = await client.query({
    query: `SELECT d.notification_id AS nid, d.receiver AS recv, d.attempt AS att, toString(toUnixTimestamp64Milli(d.at)) AS at_ms,
              d.status_code AS code, d.outcome AS outc, d.latency_ms AS lat, d.error AS err, n.kind AS kind
            FROM delivery_attempts AS d
            INNER JOIN (SELECT notification_id, kind FROM notifications WHERE has(alert_ids, {id:String})) AS n
              ON n.notification_id = d.notification_id
            ORDER BY d.at`,
    query_params: { id: alertId },
    format: "JSONEachRow",
  });
  type Row = {
    nid: string;
    recv: string;
    att: number;
    at_ms: string;
    code: number;
    outc: DeliveryOutcome;
    lat: number;
    err: string;
    kind: string;
  };
  return (await rs.json<Row>()).map((r) => ({
    notificationId: r.nid,
    receiver: r.recv,
    attempt: Number(r.att),
    atMs: Number(r.at_ms),
    statusCode: Number(r.code),
    outcome: r.outc,
    latencyMs: Number(r.lat),
    error: r.err,
    kind: r.kind,
  }));
}
