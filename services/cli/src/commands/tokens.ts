import type { CreateTokenRequest, RequestBody } from "@vigil/api-contract";
import { apiRequest } from "../api-client";
import type { ApiTarget } from "../api-client";
import { table } from "../table";

type Print = (s: string) => void;

export async function tokenCreate(
  target: ApiTarget,
  o: { agent: string; name?: string; expires?: string; environment?: string; json?: boolean },
  print: Print,
): Promise<number> {
  const r = await apiRequest<{
    tokenId: string;
    agentId: string;
    token: string;
    expiresAt: string | null;
    environment: string | null;
  }>(target, `/api/agents/${encodeURIComponent(o.agent)}/tokens`, {
    method: "POST",
    body: {
      ...(o.name === undefined ? {} : { name: o.name }),
      ...(o.expires === undefined ? {} : { expires: o.expires }),
      ...(o.environment === undefined ? {} : { environment: o.environment }),
    } satisfies RequestBody<typeof CreateTokenRequest>,
  });
  if (o.json === true) print(JSON.stringify(r, null, 2));
  else {
    print(
      `token ${r.tokenId} for ${r.agentId}${r.environment ? ` (environment ${r.environment} only)` : ""}${r.expiresAt ? `, expires ${r.expiresAt}` : ""}`,
    );
    print("shown once; only its SHA-256 is stored:");
    print(`  ${r.token}`);
    print(`use it as: OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer ${r.token}"`);
  }
  return 0;
}

interface TokenRow {
  tokenId: string;
  source: string;
  agentId: string;
  name: string | null;
  fingerprint: string;
  environment: string | null;
  expiresAt: string | null;
  revoked: boolean;
}

export async function tokenList(
  target: ApiTarget,
  o: { agent?: string; json?: boolean },
  print: Print,
): Promise<number> {
  const { tokens } = await apiRequest<{ tokens: TokenRow[] }>(
    target,
    `/api/tokens${o.agent === undefined ? "" : `?agent=${encodeURIComponent(o.agent)}`}`,
  );
  if (o.json === true) print(JSON.stringify(tokens, null, 2));
  else if (tokens.length === 0) print("no tokens");
  else
    print(
      table(
        ["ID", "AGENT", "NAME", "SHA256", "ENVIRONMENT", "EXPIRES", "STATE"],
        tokens.map((t) => [
          t.tokenId,
          t.agentId,
          t.name ?? "-",
          `${t.fingerprint}…`,
          t.environment ?? "any",
          t.expiresAt ?? "never",
          t.revoked ? "revoked" : t.expiresAt !== null && Date.parse(t.expiresAt) <= Date.now() ? "expired" : "active",
        ]),
      ),
    );
  return 0;
}

export async function tokenRevoke(target: ApiTarget, id: string, print: Print): Promise<number> {
  const r = await apiRequest<{ tokenId: string; agentId: string }>(target, `/api/tokens/${encodeURIComponent(id)}`, {
    method: "DELETE",
  });
  print(`token ${r.tokenId} of ${r.agentId} revoked; ingest refuses it within seconds`);
  return 0;
}
