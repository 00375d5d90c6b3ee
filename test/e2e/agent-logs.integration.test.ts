import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateToken, sha256Hex } from "@vigil/config";
import { findAlerts, findTrace } from "@vigil/store";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * An agent's own OTLP log records on /v1/logs: authenticated by its token, limited,
 * deduplicated, redacted and ledgered as its spans are, each stored as a child of the
 * span it was emitted in. Beside each honest request, what an attacker would try.
 */
const tokens = { agent: generateToken(), other: generateToken() };
let h: Harness;
let logsUrl: string;

beforeAll(async () => {
  h = await startVigil([], {
    agentsYaml:
      "agents:\n" +
      `  - id: log-bot\n    tokens:\n      - sha256: "${sha256Hex(tokens.agent)}"\n` +
      `  - id: other-bot\n    tokens:\n      - sha256: "${sha256Hex(tokens.other)}"\n`,
    env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" },
  });
  logsUrl = h.ingestUrl.replace("/v1/traces", "/v1/logs");
});

afterAll(async () => {
  await h?.stop();
});

interface RecordSpec {
  traceId?: string;
  spanId?: string;
  eventName?: string;
  body?: unknown;
  timeNs?: bigint;
  attributes?: Record<string, string>;
}

/** An OTLP/JSON ExportLogsServiceRequest; times as JSON numbers, as the specification allows. */
function logsRequest(records: readonly RecordSpec[]): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "log-bot" } }] },
        scopeLogs: [
          {
            scope: { name: "@opentelemetry/instrumentation-openai" },
            logRecords: records.map((r) => ({
              timeUnixNano: `@@${r.timeNs ?? now}@@`,
              ...(r.traceId === undefined ? {} : { traceId: r.traceId }),
              ...(r.spanId === undefined ? {} : { spanId: r.spanId }),
              ...(r.eventName === undefined ? {} : { eventName: r.eventName }),
              severityNumber: "SEVERITY_NUMBER_INFO",
              body: r.body,
              attributes: Object.entries(r.attributes ?? {}).map(([key, v]) => ({ key, value: { stringValue: v } })),
            })),
          },
        ],
      },
    ],
  }).replace(/"@@(\d+)@@"/g, "$1");
}

const post = (body: string, token?: string) =>
  fetch(logsUrl, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
  });

const content = (text: string) => ({ kvlistValue: { values: [{ key: "content", value: { stringValue: text } }] } });

describe("an agent's log records (POST /v1/logs with its token)", () => {
  it("stores each record as a child of its span, with the input it carries, and redacts a credential in it", async () => {
    const traceId = "10a1".padEnd(32, "7");
    const key = "AKIA" + "QWERTYUIOPASDFGH";
    const res = await post(
      logsRequest([
        { traceId, spanId: "00000000000000c1", eventName: "gen_ai.user.message", body: content("Where is order 7?") },
        {
          traceId,
          spanId: "00000000000000c1",
          attributes: { "event.name": "gen_ai.tool.message" },
          body: content(`the note says: use key ${key}`),
        },
      ]),
      tokens.agent,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const rows = await until("the two records", async () => {
      const r = await findTrace(h.vigil.client, traceId);
      return r.length === 2 ? r : undefined;
    });
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.get("gen_ai.user.message")).toMatchObject({
      agentId: "log-bot",
      parentSpanId: "00000000000000c1",
      facts: { input: "Where is order 7?", inputSource: "gen_ai.user.message" },
    });
    const tool = byName.get("gen_ai.tool.message");
    expect(JSON.stringify(tool)).not.toContain(key);
    expect(tool?.integrity.redactions.map((r) => r.rule)).toEqual(["aws-access-key-id"]);
    const alert = await until("secret_in_prompt for the record", async () =>
      (await findAlerts(h.vigil.client, { agentId: "log-bot" })).find((a) => a.detector === "secret_in_prompt"),
    );
    expect(alert.spanIds).toContain(tool?.spanId);
  });

  it("stores a request sent twice once, with the same row ids", async () => {
    const traceId = "10a2".padEnd(32, "7");
    const body = logsRequest([
      { traceId, spanId: "00000000000000c2", eventName: "gen_ai.user.message", body: content("hi") },
    ]);
    expect((await post(body, tokens.agent)).status).toBe(200);
    expect((await post(body, tokens.agent)).status).toBe(200);
    const rows = await until("the record", async () => {
      const r = await findTrace(h.vigil.client, traceId);
      return r.length > 0 ? r : undefined;
    });
    expect(rows).toHaveLength(1);
  });

  it("rejects a malformed or out-of-window record alone (partial success), and stores the rest", async () => {
    const traceId = "10a3".padEnd(32, "7");
    const res = await post(
      logsRequest([
        { traceId, spanId: "00c3", eventName: "gen_ai.user.message", body: content("bad span id") },
        {
          traceId,
          eventName: "gen_ai.user.message",
          body: content("from 100 days ago"),
          timeNs: BigInt(Date.now() - 100 * 86_400_000) * 1_000_000n,
        },
        { traceId, eventName: "gen_ai.user.message", body: content("fine") },
      ]),
      tokens.agent,
    );
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(answer.partialSuccess.rejectedLogRecords).toBe("2");
    expect(answer.partialSuccess.errorMessage).toMatch(/span_id must be empty or 8 bytes/);
    const rows = await until("the valid record", async () => {
      const r = await findTrace(h.vigil.client, traceId);
      return r.length > 0 ? r : undefined;
    });
    expect(rows.map((r) => r.facts.input)).toEqual(["fine"]);
  });

  it("refuses records without a token, with a wrong one, or with a reader API key", async () => {
    const body = logsRequest([{ eventName: "gen_ai.user.message", body: content("who am I") }]);
    for (const token of [undefined, generateToken(), h.apiKeys.reader, h.apiKeys.admin]) {
      const res = await post(body, token);
      expect(res.status).toBe(401);
    }
  });

  it("keeps an agent's records in its own name: another agent's token cannot add them to its traces' sessions", async () => {
    const traceId = "10a4".padEnd(32, "7");
    expect(
      (
        await post(
          logsRequest([{ traceId, eventName: "gen_ai.user.message", body: content("approve everything") }]),
          tokens.other,
        )
      ).status,
    ).toBe(200);
    const rows = await until("the record", async () => {
      const r = await findTrace(h.vigil.client, traceId);
      return r.length > 0 ? r : undefined;
    });
    expect(rows.map((r) => r.agentId)).toEqual(["other-bot"]);
  });
});
