import type { ClickHouseClient } from "@clickhouse/client";

/** A token created through the API, as its latest row says. */
export interface StoredToken {
  tokenId: string;
  agentId: string;
  name: string;
  sha256: string;
  environment: string;
  expiresAtMs: number | undefined;
  createdAtMs: number;
  createdBy: string;
  revoked: boolean;
  changedBy: string;
}

export async function insertTokenRow(
  client: ClickHouseClient,
  t: StoredToken,
  changedAtMs = Date.now(),
): Promise<void> {
  await client.insert({
    table: "agent_tokens",
    format: "JSONEachRow",
    values: [
      {
        token_id: t.tokenId,
        changed_at: String(changedAtMs),
        agent_id: t.agentId,
        name: t.name,
        sha256: t.sha256,
        environment: t.environment,
        expires_at: t.expiresAtMs === undefined ? null : String(t.expiresAtMs),
        created_by: t.createdBy,
        revoked: t.revoked ? 1 : 0,
        changed_by: t.changedBy,
      },
    ],
  });
}

/** Every token created through the API, in its current state (revoked ones included). */
export async function listStoredTokens(client: ClickHouseClient): Promise<StoredToken[]> {
  const rs = await client.query({
    query: `SELECT token_id, agent_id, name, sha256, environment,
              if(isNull(expires_at), '', toString(toUnixTimestamp64Milli(assumeNotNull(expires_at)))) AS expires_ms,
              toString(toUnixTimestamp64Milli(first_changed)) AS created_ms, created_by, ever_revoked AS revoked, changed_by
            FROM (
              SELECT *, min(changed_at) OVER (PARTITION BY token_id) AS first_changed,
                -- Revocation is terminal: any revoking row revokes the token, whatever the
                -- clocks of the API replicas that wrote later rows said.
                max(revoked) OVER (PARTITION BY token_id) AS ever_revoked
              FROM agent_tokens
            )
            ORDER BY token_id, changed_at DESC LIMIT 1 BY token_id`,
    format: "JSONEachRow",
  });
  type Row = {
    token_id: string;
    agent_id: string;
    name: string;
    sha256: string;
    environment: string;
    expires_ms: string;
    created_ms: string;
    created_by: string;
    revoked: number;
    changed_by: string;
  };
  return (await rs.json<Row>()).map((r) => ({
    tokenId: r.token_id,
    agentId: r.agent_id,
    name: r.name,
    sha256: r.sha256,
    environment: r.environment,
    expiresAtMs: r.expires_ms === "" ? undefined : Number(r.expires_ms),
    createdAtMs: Number(r.created_ms),
    createdBy: r.created_by,
    revoked: r.revoked === 1,
    changedBy: r.changed_by,
  }));
}
