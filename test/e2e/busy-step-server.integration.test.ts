import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findSessionlessTraceSpans,
  runMigrations,
  sessionsOfTraces,
  splitTracesOfSessions,
  tracesInSeveralRequests,
} from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import { TestClickHouse } from "../support/clickhouse-server";

/**
 * A detection step under load names tens of thousands of traces and sessions. A ClickHouse
 * server caps one query parameter (`http_max_field_value_size`, 128 KiB by default; the
 * embedded engine does not), and every such read failed with "Field value too long", and
 * the whole detection step with it, over and over (found by `npm run bench`'s server
 * placement). The readers slice their parameters; this asks them for 40,000 traces on a
 * real server, one known trace last (in the final slice), and checks the answers.
 */
const clickhouse = new TestClickHouse();
let client: ClickHouseClient;
const agentId = "busy-bot";
const knownTrace = "b05e".padEnd(32, "7");
const unknown = Array.from({ length: 40_000 }, (_, i) => `${i.toString(16).padStart(8, "0")}${"e5".repeat(12)}`);
const now = BigInt(Date.now()) * 1_000_000n;

beforeAll(async () => {
  await clickhouse.start();
  client = clickhouse.adminClient();
  await runMigrations(client);
  // The known trace: its session, and its index rows from two requests (a split trace).
  const at = new Date(Number(now / 1_000_000n)).toISOString().replace("T", " ").replace("Z", "");
  await client.insert({
    table: "trace_sessions",
    values: [{ agent_id: agentId, session_id: "s-busy", trace_id: knownTrace, start_time: at, end_time: at }],
    format: "JSONEachRow",
  });
  await client.insert({
    table: "span_trace_index",
    values: [1, 2].map(() => ({ trace_id: knownTrace, agent_id: agentId, start_time: at, end_time: at })),
    format: "JSONEachRow",
  });
}, 120_000);

afterAll(async () => {
  await client?.close();
  await clickhouse.stop();
});

describe("a busy detection step on a ClickHouse server", () => {
  it("reads sessions, split traces and session-less steps for more traces than one parameter carries", async () => {
    const traceIds = [...unknown, knownTrace];
    const sessions = await sessionsOfTraces(
      client,
      traceIds.map((traceId) => ({ agentId, traceId })),
    );
    expect([...sessions.values()]).toEqual(["s-busy"]);
    expect(await tracesInSeveralRequests(client, traceIds)).toEqual(new Set([knownTrace]));
    expect(
      await findSessionlessTraceSpans(client, agentId, traceIds, String(now - 1_000_000_000n), String(now), []),
    ).toEqual([]);
    const sessionIds = [...unknown.map((t) => `s-${t}`), "s-busy"];
    expect(await splitTracesOfSessions(client, agentId, sessionIds)).toEqual(new Map([[knownTrace, "s-busy"]]));
  });
});
