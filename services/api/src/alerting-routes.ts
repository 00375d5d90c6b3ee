import { Hono } from "hono";
import { RequestError } from "@vigil/common";
import { randomUUID } from "node:crypto";
import { parseDuration } from "@vigil/config";
import {
  alertsByIds,
  disabledReceivers,
  findAttempts,
  insertAck,
  insertSilence,
  listSilences,
  setReceiverState,
} from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import { AckRequest, SilenceRequest } from "@vigil/api-contract";
import { requireAdmin } from "./auth";
import { jsonBody } from "./params";
import type { ApiEnv } from "./auth";

/** Acknowledgements, silences and delivery attempts. Changing state needs the admin role. */
export function alertingRoutes(client: ClickHouseClient): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();

  // Acknowledge an alert: its group resolves (PagerDuty resolve) once all its alerts are acknowledged.
  api.post("/alerts/:id/ack", requireAdmin, async (c) => {
    const id = c.req.param("id");
    const body = await jsonBody(c, AckRequest, { empty: {} });
    const [alert] = await alertsByIds(client, [id]);
    if (alert === undefined) throw new RequestError(404, "not_found", `no alert ${id}`);
    const ack = {
      alertId: id,
      ackedAtMs: Date.now(),
      author: c.get("caller").name,
      note: body.note ?? "",
    };
    await insertAck(client, ack);
    return c.json(ack, 201);
  });

  api.get("/silences", async (c) => {
    const now = Date.now();
    const silences = await listSilences(client);
    return c.json({ silences: silences.map((s) => ({ ...s, active: s.startsAtMs <= now && now < s.endsAtMs })) });
  });

  api.post("/silences", requireAdmin, async (c) => {
    const r = await jsonBody(c, SilenceRequest);
    const now = Date.now();
    const startsAtMs = r.starts_at === undefined ? now : Date.parse(r.starts_at);
    const endsAtMs =
      r.ends_at !== undefined
        ? Date.parse(r.ends_at)
        : r.duration !== undefined
          ? startsAtMs + (parseDuration(r.duration) as number)
          : undefined;
    if (endsAtMs === undefined)
      throw new RequestError(400, "bad_request", "give duration or ends_at: a silence always ends");
    if (endsAtMs <= startsAtMs) throw new RequestError(400, "bad_request", "ends_at must be after starts_at");
    const silence = {
      silenceId: randomUUID(),
      changedAtMs: now,
      author: c.get("caller").name,
      reason: r.reason,
      matchers: r.matchers as Record<string, string[]>,
      startsAtMs,
      endsAtMs,
    };
    await insertSilence(client, silence);
    return c.json(silence, 201);
  });

  // Expiring adds a row that ends the silence now (insert-only: the history stays).
  api.delete("/silences/:id", requireAdmin, async (c) => {
    const current = (await listSilences(client)).find((s) => s.silenceId === c.req.param("id"));
    if (current === undefined) throw new RequestError(404, "not_found", `no silence ${c.req.param("id")}`);
    const now = Date.now();
    const expired = {
      ...current,
      changedAtMs: now,
      endsAtMs: Math.min(current.endsAtMs, now),
      author: c.get("caller").name,
    };
    await insertSilence(client, expired);
    return c.json(expired);
  });

  // Delivery attempts, newest first: ?receiver=&notification=&limit=
  api.get("/deliveries", async (c) => {
    const q = c.req.query();
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new RequestError(400, "bad_request", "limit must be 1-1000");
    const attempts = await findAttempts(client, {
      ...(q.receiver === undefined ? {} : { receiver: q.receiver }),
      ...(q.notification === undefined ? {} : { notificationId: q.notification }),
      limit,
    });
    return c.json({ attempts });
  });

  // Receivers disabled after a 410 Gone, and re-enabling one once its configuration is fixed.
  api.get("/receivers/disabled", async (c) => {
    const disabled = await disabledReceivers(client);
    return c.json({ disabled: [...disabled].map(([name, reason]) => ({ name, reason })) });
  });
  api.post("/receivers/:name/enable", requireAdmin, async (c) => {
    const name = c.req.param("name");
    if (!(await disabledReceivers(client)).has(name))
      throw new RequestError(404, "not_found", `receiver ${name} is not disabled`);
    await setReceiverState(client, name, false, `enabled by ${c.get("caller").name}`);
    return c.json({ name, enabled: true });
  });

  return api;
}
