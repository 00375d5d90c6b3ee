import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findAlerts } from "@vigil/store";
import { FORMATS, generator, place } from "../corpora/credential-formats";
import { jsonTraceRequest } from "../support/otlp-json";
import { encodeProtobufRequest } from "../support/otlp-fixtures";
import { until } from "../support/wait";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * An agent (or whatever it read) puts credentials everywhere a span has text: the
 * attack is "get a secret written to disk". Each is planted in a different place, the
 * span is sent through the real all-in-one, detection runs, and then every table of
 * the store is read back in full and searched for every secret.
 */
let h: Harness;

beforeAll(async () => {
  h = await startVigil(["leaky-bot"]);
});

afterAll(async () => {
  await h?.stop();
});

// Real-format credentials, none of them a documented example value.
const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQ0MTciLCJyb2xlIjoiYWRtaW4iLCJpYXQiOjE3MzAwMDAwMDB9.Qm9uZ3VzU2lnbmF0dXJlX2Zvcl90ZXN0aW5nXzA5ODc2NTQz";
const SECRETS: Record<string, string> = {
  "attribute value": "AKIAZ7QRXW3JPLM4TVBN",
  "attribute key": "ghp_R4nd0mT0k3nF0rK3yT3st1ngAbCdEfGh12",
  "nested kvlist key": "xoxb-2048-4096-kVqk3LbzPq8sTy1uNeW0xR5m",
  "trace state": "sk_live_51HvQ2pLk8Jm3Nc4Rt6Yu7Wi9Oa0Sd",
  "link trace state": "npm_Zx8Cv7Bn6Mq5Wl4Ek3Rj2Th1Yg0Uf9IdPo8A",
  "scope name": "glpat-Hq7Jt2Lp9Xw4Zr6Ks1Mv",
  "scope version": "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",
  "schema url": "https://deploy:Tr0ub4dor-and-3-more@schemas.example.net/1.30.0",
  "event name": "AIzaSyC4q7Rb8Xv1Ln5Kp2Mw9Zt3Hs6Jd0Fg1Qe",
  "status message": "pypi-AgEIcHlwaS5vcmcCJDM3ZjBhYjk0LWQxNDItNGY3Yi1hMmQ5LTk4ZjBlYmYwMzEyOQACKlszLCJmYzE",
  "JSON-escaped inside a message list": JWT,
};

/** The part of a secret that must not be stored anywhere (for a URL, its password). */
const needle = (where: string, secret: string) =>
  where === "schema url"
    ? "Tr0ub4dor-and-3-more"
    : where === "JSON-escaped inside a message list"
      ? (JWT.split(".")[2] ?? JWT)
      : secret;

function plantedRequest(): Uint8Array {
  const now = BigInt(Date.now()) * 1_000_000n;
  const messages = JSON.stringify([{ role: "user", parts: [{ type: "text", content: `token ${JWT}` }] }]).replaceAll(
    ".",
    "\\u002e",
  );
  return encodeProtobufRequest({
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "leaky-bot" } }] },
        schemaUrl: SECRETS["schema url"],
        scopeSpans: [
          {
            scope: { name: SECRETS["scope name"], version: SECRETS["scope version"] },
            spans: [
              {
                traceId: "7a1f00000000000000000000000000a1",
                spanId: "7a1f0000000000a1",
                traceState: `vendor=${SECRETS["trace state"]}`,
                name: "chat",
                kind: 3,
                startTimeUnixNano: String(now - 2_000_000n),
                endTimeUnixNano: String(now),
                attributes: [
                  { key: "gen_ai.operation.name", value: { stringValue: "chat" } },
                  { key: "gen_ai.input.messages", value: { stringValue: messages } },
                  { key: "cloud.key", value: { stringValue: SECRETS["attribute value"] } },
                  { key: SECRETS["attribute key"] as string, value: { boolValue: true } },
                  {
                    key: "config",
                    value: {
                      kvlistValue: { values: [{ key: SECRETS["nested kvlist key"], value: { stringValue: "on" } }] },
                    },
                  },
                ],
                events: [{ timeUnixNano: String(now - 1_000_000n), name: `maps ${SECRETS["event name"]}` }],
                links: [
                  {
                    traceId: "7a1f00000000000000000000000000a2",
                    spanId: "7a1f0000000000a2",
                    traceState: `k=${SECRETS["link trace state"]}`,
                  },
                ],
                status: { code: 2, message: `auth failed for ${SECRETS["status message"]}` },
              },
            ],
          },
        ],
      },
    ],
  });
}

describe("no planted credential reaches any table", () => {
  it("redacts every place a span has text, alerts included, and names where each was found", async () => {
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: Buffer.from(plantedRequest()),
      headers: { "content-type": "application/x-protobuf", authorization: `Bearer ${h.tokens["leaky-bot"]}` },
    });
    expect(res.status).toBe(200);
    const alerts = await until("the secret_in_prompt alert", async () => {
      const found = await findAlerts(h.vigil.client, { detector: "secret_in_prompt" });
      return found.length > 0 && found;
    });
    expect(alerts).toHaveLength(1);

    const tables = await h.vigil.client.query({
      query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View%'",
      format: "JSONEachRow",
    });
    const names = (await tables.json<{ name: string }>()).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["spans", "alerts", "ledger", "notifications", "agent_activity"]));
    const leaks: string[] = [];
    for (const table of names) {
      const dump = await h.vigil.client.query({ query: `SELECT * FROM ${table}`, format: "TabSeparated" });
      const text = await dump.text();
      for (const [where, secret] of Object.entries(SECRETS))
        if (text.includes(needle(where, secret))) leaks.push(`${where} → ${table}`);
    }
    expect(leaks).toEqual([]);

    // Every place is reported, so a responder knows what to rotate and where it leaked.
    const span = await h.vigil.client.query({
      query: "SELECT redacted_rules, redacted_locations FROM spans WHERE span_id = '7a1f0000000000a1'",
      format: "JSONEachRow",
    });
    const [row] = await span.json<{ redacted_rules: string[]; redacted_locations: string[] }>();
    expect(new Set(row?.redacted_locations)).toEqual(
      new Set([
        "attributes.gen_ai.input.messages",
        "attributes.cloud.key",
        "attributes (a key)",
        "attributes.config (a key)",
        "trace_state",
        "links[0].trace_state",
        "scope.name",
        "scope.version",
        "resource.schema_url",
        "events[0].name",
        "status.message",
      ]),
    );
  });
});

describe("no credential of the external corpus reaches any table", () => {
  it("stores none of one secret per format, planted as attributes and as a destructive tool call's input", async () => {
    const g = generator(7);
    const planted = FORMATS.map((f) => ({ f, secret: f.make(g) }));
    const attrs: Record<string, string> = { "session.id": "corpus-leak", "db.query.text": "DROP TABLE audit" };
    planted.forEach(({ f, secret }, i) => (attrs[`leak.${i}`] = place(f, secret, 0, f.names[0] as string)));
    // The alert copies the input that caused the step: that copy must be redacted too.
    attrs["gen_ai.tool.call.arguments"] = JSON.stringify({
      env: planted.slice(0, 20).map(({ f, secret }) => place(f, secret, 0, f.names[0] as string)),
    });
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([{ traceId: "7a1f00000000000000000000000000b1", attrs }]),
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["leaky-bot"]}` },
    });
    expect(res.status).toBe(200);
    await until("the DROP's alert", async () => {
      const found = await findAlerts(h.vigil.client, { limit: 100 });
      return found.some((a) => a.sessionId === "corpus-leak") || undefined;
    });
    const tables = await h.vigil.client.query({
      query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View%'",
      format: "JSONEachRow",
    });
    const leaks: string[] = [];
    for (const { name } of await tables.json<{ name: string }>()) {
      const text = await (
        await h.vigil.client.query({ query: `SELECT * FROM ${name}`, format: "TabSeparated" })
      ).text();
      for (const { f, secret } of planted)
        if (text.includes(secret.slice(f.publicPrefix ?? 0))) leaks.push(`${f.format} → ${name}`);
    }
    expect(leaks).toEqual([]);
    process.stdout.write(`secrets at rest: ${planted.length} formats planted, 0 found in any table\n`);
  });
});
