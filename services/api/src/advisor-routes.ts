import { Hono } from "hono";
import { RequestError } from "@vigil/common";
import type { Context } from "hono";
import {
  beyondCurrentGrants,
  diffPolicy,
  observePermissions,
  policyYaml,
  promotionMarkdown,
  promotionReport,
  suggestGrants,
  suggestPolicy,
} from "@vigil/advisor";
import type { GrantDialect, Observed } from "@vigil/advisor";
import type { VigilConfig } from "@vigil/config";
import { listAgentSummaries } from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import type { ApiEnv } from "./auth";
import { GrantsRequest } from "@vigil/api-contract";
import { bad, jsonBody, parseSince } from "./params";

/**
 * The least-privilege advisor: what an agent used, the policy and grants that allow
 * exactly that, and whether it is ready for production. JSON by default; YAML, SQL or
 * Markdown (`?format=`) for a pull request.
 */
export function advisorRoutes(client: ClickHouseClient, config: VigilConfig): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();
  const agentOf = (id: string) => config.agents.find((a) => a.id === id);

  /** The window and environment of a request; the agent's busiest environment by default. */
  async function observe(
    c: Context<ApiEnv>,
    q: { environment?: string | undefined; since?: string | undefined; min_sessions?: string | undefined },
  ): Promise<Observed | Response> {
    const agentId = c.req.param("id") as string;
    const fromMs = parseSince(q.since ?? "30d", Date.now());
    if (fromMs === null) return bad(c, "since must be an ISO time or a duration like 7d, 30d");
    const minSessions = q.min_sessions === undefined ? 2 : Number(q.min_sessions);
    if (!Number.isInteger(minSessions) || minSessions < 1) return bad(c, "min_sessions must be a positive integer");
    let environment = q.environment;
    if (environment === undefined) {
      const envs = (await listAgentSummaries(client))
        .filter((s) => s.agentId === agentId)
        .sort((a, b) => b.spans - a.spans);
      if (envs.length === 0) throw new RequestError(404, "not_found", `agent ${agentId} has sent no spans`);
      environment = (envs[0] as { environment: string }).environment;
    }
    return observePermissions(client, {
      agentId,
      environment,
      fromMs,
      toMs: Date.now() + 60_000,
      timezone: agentOf(agentId)?.timezone ?? "UTC",
      minSessions,
    });
  }

  api.get("/agents/:id/permissions", async (c) => {
    const observed = await observe(c, c.req.query());
    if (observed instanceof Response) return observed;
    const suggestion = suggestPolicy(observed);
    if (c.req.query("format") === "yaml")
      return c.text(policyYaml(observed.agentId, suggestion, observed), 200, {
        "content-type": "application/yaml; charset=utf-8",
      });
    return c.json({ observed, suggestion, diff: diffPolicy(observed, agentOf(observed.agentId)?.policy) });
  });

  // GRANTs for one credential; send {"current": "GRANT ..."} to see what it allows beyond use.
  api.post("/agents/:id/grants", async (c) => {
    const body = await jsonBody(c, GrantsRequest);
    const observed = await observe(c, { environment: body.environment, since: body.since });
    if (observed instanceof Response) return observed;
    const dialect: GrantDialect = body.dialect;
    const suggestion = suggestGrants(observed, body.credential, dialect, {
      ...(body.database === undefined ? {} : { database: body.database }),
    });
    let beyond: string[] | undefined;
    if (body.current !== undefined && body.current.trim() !== "") {
      try {
        beyond = beyondCurrentGrants(
          observed,
          body.credential,
          body.current,
          dialect === "clickhouse" ? "generic" : dialect,
        );
      } catch (err) {
        return bad(c, `the current grants do not parse: ${(err as Error).message}`);
      }
    }
    if (c.req.query("format") === "sql") {
      const lines = [
        `-- Least privilege for ${observed.agentId}'s credential ${body.credential} (${dialect}), from ${observed.spans} spans` +
          (observed.auditRecords > 0 ? ` (${observed.auditRecords} of them the database's audit records).` : "."),
        ...suggestion.seenOnlyByDatabase.map((r) => `-- seen only by the database, not in the agent's trace: ${r}`),
        ...suggestion.review.map((r) => `-- used rarely, not granted until reviewed: ${r}`),
        ...suggestion.notGrantable.map((r) => `-- used, but ${dialect} cannot grant it (owner only): ${r}`),
        ...(beyond ?? []).map((b) => `-- the current grants also allow, unused: ${b}`),
        ...suggestion.statements.map((s) => `${s};`),
      ];
      return c.text(`${lines.join("\n")}\n`, 200, { "content-type": "application/sql; charset=utf-8" });
    }
    return c.json({ ...suggestion, ...(beyond === undefined ? {} : { beyondCurrent: beyond }) });
  });

  api.get("/agents/:id/promotion", async (c) => {
    const days = Number(c.req.query("days") ?? 7);
    if (!Number.isInteger(days) || days < 1 || days > 365) return bad(c, "days must be 1-365");
    const report = await promotionReport(client, {
      agentId: c.req.param("id"),
      environment: c.req.query("environment") ?? "staging",
      windowDays: days,
    });
    if (c.req.query("format") === "markdown")
      return c.text(promotionMarkdown(report), 200, { "content-type": "text/markdown; charset=utf-8" });
    return c.json(report);
  });

  return api;
}
