import { describe, expect, it } from "vitest";
import { generateToken, parseVigilConfig, sha256Hex } from "@vigil/config";
import type { ClickHouseClient } from "@vigil/store";
import { createApiApp } from "./app";

/**
 * Bodies a caller gets wrong are refused before any route logic runs, each with a 400
 * that names the problem (the routes parse with the shared schemas). No request here
 * reaches the store: there is none (the honest bodies are exercised end to end in
 * test/e2e and test/security).
 */
const admin = generateToken("vak_");
const app = createApiApp({
  client: undefined as unknown as ClickHouseClient,
  config: parseVigilConfig(`api_keys:\n  - {name: admin, role: admin, sha256: "${sha256Hex(admin)}"}\n`),
  hostName: "test",
});
const post = async (path: string, body: string) => {
  const res = await app.request(path, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body,
  });
  return { status: res.status, body: (await res.json()) as { error: string; message: string } };
};

describe("request bodies", () => {
  it("refuses what is not JSON, the wrong types and keys no route takes, naming each", async () => {
    expect(await post("/api/sql", "SELECT 1")).toEqual({
      status: 400,
      body: { error: "bad_request", message: "send a JSON body" },
    });
    const wrongType = await post("/api/sql", JSON.stringify({ sql: 42 }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.message).toMatch(/^sql: /);
    const extra = await post("/api/sql", JSON.stringify({ sql: "SELECT 1", settings: { readonly: 0 } }));
    expect(extra.status).toBe(400);
    expect(extra.body.message).toMatch(/settings/);
    const witnesses = await post(
      "/api/verify",
      JSON.stringify({ witnesses: [{ chainId: "main", size: -1, note: "" }] }),
    );
    expect(witnesses.status).toBe(400);
    expect(witnesses.body.message).toMatch(/^witnesses\.0\.size: /);
    const silence = await post("/api/silences", JSON.stringify({ matchers: {}, reason: "noise", duration: "2h" }));
    expect(silence.status).toBe(400);
    expect(silence.body.message).toMatch(/at least one matcher/);
    const grants = await post("/api/agents/a/grants", JSON.stringify({ credential: "c", dialect: "oracle" }));
    expect(grants.status).toBe(400);
    expect(grants.body.message).toMatch(/^dialect: /);
    const answer = await post("/api/decisions/d1/approve", JSON.stringify({ justification: "   " }));
    expect(answer).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^justification: say why/) } });
  });
});
