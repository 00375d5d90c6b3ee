import type { GRANT_DIALECTS, GrantsRequest, RequestBody } from "@vigil/api-contract";
import { readFileSync } from "node:fs";
import { CliError, apiRequest, apiText } from "../api-client";
import type { ApiTarget } from "../api-client";

type Print = (s: string) => void;
const query = (params: Record<string, string | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return q.toString();
};

/** `vigil advise policy`: the suggested policy block as YAML (for a pull request). */
export async function advisePolicy(
  target: ApiTarget,
  o: { agent: string; environment?: string; since: string; json?: boolean },
  print: Print,
): Promise<number> {
  const q = query({ environment: o.environment, since: o.since, format: o.json === true ? undefined : "yaml" });
  print((await apiText(target, `/api/agents/${encodeURIComponent(o.agent)}/permissions?${q}`)).trimEnd());
  return 0;
}

export interface AdviseGrantsOptions {
  agent: string;
  credential: string;
  dialect: (typeof GRANT_DIALECTS)[number];
  database?: string;
  current?: string;
  environment?: string;
  since: string;
  json?: boolean;
}

/** `vigil advise grants`: GRANT statements for one credential, as SQL. */
export async function adviseGrants(target: ApiTarget, o: AdviseGrantsOptions, print: Print): Promise<number> {
  let current: string | undefined;
  if (o.current !== undefined) {
    try {
      current = readFileSync(o.current, "utf8");
    } catch (err) {
      throw new CliError(`cannot read ${o.current}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const body = {
    credential: o.credential,
    dialect: o.dialect,
    since: o.since,
    ...(o.database === undefined ? {} : { database: o.database }),
    ...(o.environment === undefined ? {} : { environment: o.environment }),
    ...(current === undefined ? {} : { current }),
  } satisfies RequestBody<typeof GrantsRequest>;
  const path = `/api/agents/${encodeURIComponent(o.agent)}/grants${o.json === true ? "" : "?format=sql"}`;
  print((await apiText(target, path, { method: "POST", body })).trimEnd());
  return 0;
}

/** `vigil advise promotion`: the report as Markdown; exit 1 when the agent is not ready (a CI gate). */
export async function advisePromotion(
  target: ApiTarget,
  o: { agent: string; environment: string; days: string; json?: boolean },
  print: Print,
): Promise<number> {
  const base = `/api/agents/${encodeURIComponent(o.agent)}/promotion?${query({ environment: o.environment, days: o.days })}`;
  const report = await apiRequest<{ verdict: { ready: boolean } }>(target, base);
  print(
    o.json === true ? JSON.stringify(report, null, 2) : (await apiText(target, `${base}&format=markdown`)).trimEnd(),
  );
  return report.verdict.ready ? 0 : 1;
}
