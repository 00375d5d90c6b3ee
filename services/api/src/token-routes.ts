import { Hono } from "hono";
import { RequestError } from "@vigil/common";
import { randomUUID } from "node:crypto";
import { generateToken, parseDuration, sha256Hex } from "@vigil/config";
import type { VigilConfig } from "@vigil/config";
import { insertTokenRow, listStoredTokens } from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import { requireAdmin } from "./auth";
import type { ApiEnv } from "./auth";
import { CreateTokenRequest } from "@vigil/api-contract";
import { jsonBody } from "./params";

/**
 * Ingest tokens, admin only: create (the token is shown once, only its SHA-256 is
 * stored), list (no secrets), revoke. Tokens declared in the config are listed too but
 * changed only in the config file.
 */
export function tokenRoutes(client: ClickHouseClient, config: VigilConfig): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();

  api.post("/agents/:id/tokens", requireAdmin, async (c) => {
    const agentId = c.req.param("id");
    if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(agentId))
      throw new RequestError(400, "bad_request", "an agent id is 1-63 characters of a-z, 0-9, '.', '_' or '-'");
    const request = await jsonBody(c, CreateTokenRequest, { empty: {} });
    const now = Date.now();
    const e = request.expires;
    const expiresAtMs =
      e === undefined ? undefined : parseDuration(e) !== undefined ? now + (parseDuration(e) as number) : Date.parse(e);
    if (expiresAtMs !== undefined && expiresAtMs <= now)
      throw new RequestError(400, "bad_request", "expires must be in the future");
    const token = generateToken();
    const row = {
      tokenId: randomUUID(),
      agentId,
      name: request.name ?? `created ${new Date(now).toISOString().slice(0, 10)}`,
      sha256: sha256Hex(token),
      environment: request.environment ?? "",
      expiresAtMs,
      createdAtMs: now,
      createdBy: c.get("caller").name,
      revoked: false,
      changedBy: c.get("caller").name,
    };
    await insertTokenRow(client, row, now);
    return c.json(
      {
        tokenId: row.tokenId,
        agentId,
        name: row.name,
        environment: row.environment || null,
        expiresAt: expiresAtMs === undefined ? null : new Date(expiresAtMs).toISOString(),
        token,
        note: "the token is shown once: only its SHA-256 is stored",
      },
      201,
    );
  });

  api.get("/tokens", requireAdmin, async (c) => {
    const agent = c.req.query("agent");
    const fromConfig = config.agents.flatMap((a) =>
      a.tokens.map((t, i) => ({
        tokenId: `config:${a.id}:${i}`,
        source: "config",
        agentId: a.id,
        name: t.name ?? null,
        fingerprint: t.sha256.slice(0, 12),
        environment: t.environment ?? null,
        expiresAt: t.expires ?? null,
        revoked: false,
        createdBy: null,
      })),
    );
    const stored = (await listStoredTokens(client)).map((t) => ({
      tokenId: t.tokenId,
      source: "api",
      agentId: t.agentId,
      name: t.name,
      fingerprint: t.sha256.slice(0, 12),
      environment: t.environment || null,
      expiresAt: t.expiresAtMs === undefined ? null : new Date(t.expiresAtMs).toISOString(),
      revoked: t.revoked,
      createdBy: t.createdBy,
    }));
    return c.json({ tokens: [...fromConfig, ...stored].filter((t) => agent === undefined || t.agentId === agent) });
  });

  api.delete("/tokens/:tokenId", requireAdmin, async (c) => {
    const id = c.req.param("tokenId");
    if (id.startsWith("config:"))
      throw new RequestError(409, "conflict", "this token is declared in the config file: remove it there and restart");
    const current = (await listStoredTokens(client)).find((t) => t.tokenId === id);
    if (current === undefined) throw new RequestError(404, "not_found", `no token ${id}`);
    if (!current.revoked) await insertTokenRow(client, { ...current, revoked: true, changedBy: c.get("caller").name });
    return c.json({ tokenId: id, agentId: current.agentId, revoked: true });
  });

  return api;
}
