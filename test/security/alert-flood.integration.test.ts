import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Alert, AlertGroupCount } from "@vigil/store";
import { jsonTraceRequest } from "../support/otlp-json";
import { apiCall, consoleCookie, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * Flooding one detector while acting on another: an agent uses 250 tools it never used,
 * after dropping a table with a backdated event time. The first-time alerts collapse to one
 * row per agent and detector, in the API (`collapse=first-time`) and the console inbox,
 * so the DROP's rule alert stays on the first page, marked as backdated.
 */
let h: Harness;

beforeAll(async () => {
  h = await startVigil(["flood-bot"], {
    env: { VIGIL_DETECT_INTERVAL_SECONDS: "3600" },
    extraYaml: "detection:\n  learning_days: 0\n  learning_min_spans: 0\n",
  });
});

afterAll(async () => {
  await h?.stop();
});

const send = async (spans: Parameters<typeof jsonTraceRequest>[0]) => {
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: jsonTraceRequest(spans),
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["flood-bot"]}` },
  });
  expect(res.status).toBe(200);
};

describe("a flood of first-time activity", () => {
  it("collapses per agent and detector, and the rule alert stays on the first page", async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    // The DROP first, then the flood raised after it: newest first, the flood is on top.
    await send([
      {
        traceId: "bac4da7e".padEnd(32, "0"),
        startNs: now - 30n * 86_400_000_000_000n,
        attrs: { "db.system.name": "postgresql", "db.query.text": "DROP TABLE ledger_archive" },
      },
    ]);
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();
    await send(
      Array.from({ length: 250 }, (_, i) => ({
        traceId: `f1d0${i.toString(16).padStart(28, "0")}`,
        attrs: { "gen_ai.tool.name": `tool_${i}` },
      })),
    );
    await h.vigil.ingest.drain();
    await h.vigil.detection.trigger();

    // Without collapsing, a first page of 20 is all novelty.
    const plain = (await apiCall(h, "/api/alerts?limit=20", h.apiKeys.reader)).body as { alerts: Alert[] };
    expect(plain.alerts.filter((a) => a.detector !== "new_tool")).toHaveLength(0);
    const collapsed = (await apiCall(h, "/api/alerts?limit=20&collapse=first-time", h.apiKeys.reader)).body as {
      alerts: Alert[];
      firstTime: AlertGroupCount[];
    };
    // Both rule alerts of the DROP: no approval, and dated 30 days back.
    expect(collapsed.alerts?.map((a) => a.detector).sort(), JSON.stringify(collapsed)).toEqual([
      "backdated_spans",
      "destructive_without_approval",
    ]);
    // 250 new tools in one row. The backdated DROP is backfill: the rules judge it, but it
    // is no live history, so the learned detectors had no profile to judge it against.
    expect(collapsed.firstTime.map((g) => [g.agentId, g.detector, g.count]).sort()).toEqual([
      ["flood-bot", "new_tool", 250],
    ]);
    expect((await apiCall(h, "/api/alerts?collapse=everything", h.apiKeys.reader)).status).toBe(400);

    // The console inbox: one row for the flood, the DROP in the list, marked backdated.
    const cookie = await consoleCookie(h, h.apiKeys.reader);
    const inbox = await (await fetch(`${h.apiUrl}/alerts`, { headers: { cookie } })).text();
    expect(inbox).toContain("First-time activity");
    expect(inbox).toMatch(/new_tool<\/td>\s*<td[^>]*>250<\/td>/);
    expect(inbox).toContain("ran DROP TABLE on ledger_archive without a human approval");
    expect(inbox).toContain("backdated");
    expect(inbox.match(/href="\/alerts\/[0-9a-f]{32}"/g)?.length).toBeLessThan(10);
  });

  it("in the CLI too: collapsed, both times shown, paged with a cursor", async () => {
    const cli = async (args: string[]) =>
      (
        await promisify(execFile)(process.execPath, ["services/cli/bin/vigil.js", ...args], {
          env: { PATH: process.env.PATH ?? "", VIGIL_API_URL: h.apiUrl, VIGIL_API_KEY: h.apiKeys.reader },
        })
      ).stdout;
    const first = await cli(["alerts", "--limit", "1"]);
    expect(first).toMatch(/first-time activity \(collapsed; --all lists each\)/);
    expect(first).toMatch(/flood-bot\s+new_tool\s+250/);
    expect(first).toMatch(/\(backdated\)/);
    const cursor = /more: vigil alerts --cursor (\S+)/.exec(first)?.[1];
    expect(cursor).toBeDefined();
    const second = await cli(["alerts", "--limit", "1", "--cursor", cursor as string]);
    expect(second).not.toContain("first-time activity");
    // The two rule alerts of the DROP, one a page.
    const ids = [first, second].map((out) => /^([0-9a-f]{32})\s/m.exec(out)?.[1]);
    expect(new Set(ids).size).toBe(2);
  });
});
