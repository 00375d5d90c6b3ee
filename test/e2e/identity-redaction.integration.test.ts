import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateToken, sha256Hex } from "@vigil/config";
import { findTrace } from "@vigil/store";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

const tokens = {
  support: generateToken(),
  supportRotated: generateToken(),
  expired: generateToken(),
  staging: generateToken(),
  billing: generateToken(),
};

const agentsYaml = `agents:
  - id: support-bot
    claims: [support-bot-api]
    tokens:
      - sha256: "${sha256Hex(tokens.support)}"
        name: old
      - sha256: "${sha256Hex(tokens.supportRotated)}"
        name: rotated-2026-11
      - sha256: "${sha256Hex(tokens.expired)}"
        expires: "2026-01-01T00:00:00Z"
  - id: staging-bot
    tokens:
      - sha256: "${sha256Hex(tokens.staging)}"
        environment: staging
  - id: billing-bot
    tokens:
      - sha256: "${sha256Hex(tokens.billing)}"
`;

let h: Harness;
beforeAll(async () => {
  // Through a pipeline thread (the default from three cores up; see VIGIL_INGEST_THREADS).
  h = await startVigil([], { agentsYaml, env: { VIGIL_INGEST_THREADS: "1" } });
});
afterAll(async () => {
  await h.stop();
});

let n = 0;
type Attr = [string, string];
/** Sends one OTLP/JSON span and returns the HTTP status, the response and its trace id. */
async function send(token: string, attrs: Attr[], resource: Attr[] = [], extra: Record<string, unknown> = {}) {
  n++;
  const traceId = `${n.toString(16).padStart(8, "0")}${"e1".repeat(12)}`;
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: resource.map(([key, v]) => ({ key, value: { stringValue: v } })) },
        scopeSpans: [
          {
            spans: [
              {
                traceId,
                spanId: "00000000000000a1",
                name: "step",
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 1000n),
                attributes: attrs.map(([key, v]) => ({ key, value: { stringValue: v } })),
                ...extra,
              },
            ],
          },
        ],
      },
    ],
  };
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, traceId };
}

describe("agent identity", () => {
  it("accepts every current token of an agent (rotation) and refuses an expired one with a clear message", async () => {
    expect((await send(tokens.support, [])).status).toBe(200);
    expect((await send(tokens.supportRotated, [])).status).toBe(200);
    const expired = await send(tokens.expired, []);
    expect(expired.status).toBe(401);
    expect(expired.body.message).toBe(
      'ingest token for agent "support-bot" expired on 2026-01-01T00:00:00.000Z; create a new one with "vigil token create --agent support-bot"',
    );
    expect(await findTrace(h.vigil.client, expired.traceId)).toHaveLength(0);
  });

  it("stores a span that claims another agent under the token's agent, marked as impersonation", async () => {
    const r = await send(tokens.support, [["gen_ai.agent.id", "billing-bot"]]);
    expect(r.status).toBe(200);
    const [span] = await findTrace(h.vigil.client, r.traceId);
    expect(span?.agentId).toBe("support-bot");
    expect(span?.facts.claimedAgent).toBe("billing-bot");
    expect(span?.integrity.impersonatedAgent).toBe("billing-bot");
  });

  it("does not mark a declared alias, the agent's own id, or a display name as impersonation", async () => {
    const alias = await send(tokens.support, [], [["service.name", "support-bot-api"]]);
    const own = await send(tokens.billing, [["gen_ai.agent.id", "billing-bot"]]);
    // Libraries put display names and sub-agent names in gen_ai.agent.name: not a claim to be that agent.
    const display = await send(tokens.support, [["gen_ai.agent.name", "Support Agent"]]);
    const subAgent = await send(tokens.support, [["gen_ai.agent.name", "billing-bot"]]);
    for (const r of [alias, own, display, subAgent])
      expect((await findTrace(h.vigil.client, r.traceId))[0]?.integrity.impersonatedAgent).toBe("");
  });

  it("lets a staging-bound token write staging spans only; production spans are rejected by partial success", async () => {
    const prod = await send(tokens.staging, [["deployment.environment.name", "production"]]);
    expect(prod.status).toBe(200);
    expect(prod.body.partialSuccess).toEqual({
      rejectedSpans: "1",
      errorMessage: 'spans of environment "production" were sent with a token bound to "staging"',
    });
    expect(await findTrace(h.vigil.client, prod.traceId)).toHaveLength(0);

    const staging = await send(tokens.staging, [], [["deployment.environment.name", "staging"]]);
    const unlabelled = await send(tokens.staging, []);
    expect((await findTrace(h.vigil.client, staging.traceId))[0]?.facts.environment).toBe("staging");
    expect((await findTrace(h.vigil.client, unlabelled.traceId))[0]?.facts.environment).toBe("staging");
  });
});

describe("secret redaction at ingest", () => {
  const awsKey = `AKIA${"Q7WZ3RT5YUP2LM4N"}`;
  const dbPassword = "Pr0d-s3cret-P4ss";

  it("stores no secret: prompts, tool arguments, events, status and resource are redacted, with findings", async () => {
    const r = await send(
      tokens.support,
      [
        ["gen_ai.prompt", `deploy with key ${awsKey} now`],
        ["gen_ai.tool.call.arguments", `{"dsn":"postgres://app:${dbPassword}@db:5432/prod"}`],
      ],
      [["deploy.note", `fallback key ${awsKey}`]],
      {
        status: { code: 2, message: `login failed for postgres://app:${dbPassword}@db/prod` },
        events: [
          {
            name: "gen_ai.user.message",
            timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
            attributes: [{ key: "content", value: { stringValue: `my key is ${awsKey}` } }],
          },
        ],
      },
    );
    expect(r.status).toBe(200);
    const [span] = await findTrace(h.vigil.client, r.traceId);
    const everything = JSON.stringify(span);
    expect(everything).not.toContain(awsKey);
    expect(everything).not.toContain(dbPassword);
    expect(span?.attributes["gen_ai.prompt"]).toEqual({
      stringValue: expect.stringMatching(
        /^deploy with key \[REDACTED:aws-access-key-id:[0-9a-f]{12}\] now$/,
      ) as unknown,
    });
    expect(span?.facts.input).toMatch(/\[REDACTED:aws-access-key-id:/);
    expect(span?.integrity.redactions.map((x) => [x.rule, x.location]).sort()).toEqual(
      [
        ["aws-access-key-id", "attributes.gen_ai.prompt"],
        ["aws-access-key-id", "events[0].attributes.content"],
        ["aws-access-key-id", "resource.attributes.deploy.note"],
        ["database-url-password", "attributes.gen_ai.tool.call.arguments"],
        ["database-url-password", "status.message"],
      ].sort(),
    );
    // The same credential gets the same fingerprint wherever it appears.
    const fps = new Set(
      span?.integrity.redactions.filter((x) => x.rule === "aws-access-key-id").map((x) => x.fingerprint),
    );
    expect(fps.size).toBe(1);

    // Nothing in any stored table holds the secret.
    const rs = await h.vigil.client.query({
      query:
        "SELECT count() AS n FROM spans WHERE position(concat(attributes, events, status_message, resource_attributes, input), {s:String}) > 0",
      query_params: { s: awsKey },
      format: "JSONEachRow",
    });
    expect(Number((await rs.json<{ n: string }>())[0]?.n)).toBe(0);
  });
});
