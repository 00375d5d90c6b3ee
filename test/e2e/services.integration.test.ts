import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { generateToken, sha256Hex } from "@vigil/config";
import { jsonTraceRequest } from "../support/otlp-json";
import { TestClickHouse } from "../support/clickhouse-server";
import { LocalReceiver } from "../support/receivers";
import { PrivateRedis, freePort } from "../support/redis-server";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

const exec = promisify(execFile);

describe("operations port of the all-in-one", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startVigil(["support-bot"], { env: { VIGIL_METRICS_PORT: "0", VIGIL_DETECT_INTERVAL_SECONDS: "1" } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it("serves health, readiness and Prometheus metrics that move with the traffic", async () => {
    const ops = `http://127.0.0.1:${h.vigil.opsPort as number}`;
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${ops}/readyz`)).json()).toMatchObject({ ready: true });
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        { traceId: randomBytes(16).toString("hex"), attrs: { "db.query.text": "DROP TABLE t" } },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"]}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    await fetch(h.ingestUrl, { method: "POST", body: "{}", headers: { "content-type": "application/json" } }); // 401
    const text = await until("the alert counted", async () => {
      const body = await (await fetch(`${ops}/metrics`)).text();
      return /vigil_detection_alerts_total\{service="vigil"\} [1-9]/.test(body) ? body : undefined;
    });
    expect(text).toMatch(/vigil_ingest_spans_stored_total\{service="vigil"\} 1\b/);
    expect(text).toMatch(/vigil_ingest_requests_rejected_total\{reason="unauthenticated",service="vigil"\} 1\b/);
    expect(text).toMatch(/vigil_ingest_insert_seconds_total\{service="vigil"\} \d/);
    expect(text).toMatch(/vigil_detection_lag_seconds\{service="vigil"\} \d/);
    expect(text).toContain("vigil_process_resident_memory_bytes");
    // Nothing secret on the page.
    expect(text).not.toContain(h.tokens["support-bot"] as string);
  });
});

describe("separate services", () => {
  it("refuse to start without a ClickHouse server, naming what is missing", async () => {
    for (const [script, missing] of [
      ["services/ingest/src/main.ts", "VIGIL_CONFIG"],
      ["services/api/src/main.ts", "VIGIL_CONFIG"],
      ["services/worker/src/main.ts", "REDIS_URL"],
      ["services/vigil/src/migrate.ts", "CLICKHOUSE_URL"],
    ] as const) {
      const failed = await exec(process.execPath, ["--import", "tsx", script], {
        env: { PATH: process.env.PATH ?? "" },
      }).catch((e: { code: number; stderr: string }) => e);
      expect((failed as { code: number }).code, script).toBe(1);
      expect((failed as { stderr: string }).stderr, script).toContain(missing);
    }
    const noServer = await exec(process.execPath, ["--import", "tsx", "services/worker/src/main.ts"], {
      env: { PATH: process.env.PATH ?? "", REDIS_URL: "redis://127.0.0.1:1" },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((noServer as { stderr: string }).stderr).toContain(
      "CLICKHOUSE_URL: the worker runs as its own process against a ClickHouse server",
    );
  });
});

describe("separate processes on a ClickHouse server and one Redis, each service as its own user", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-split-"));
  const token = generateToken();
  const adminKey = generateToken("vak_");
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const hook = new LocalReceiver("webhook", secret);
  const children: ChildProcess[] = [];
  const clickhouse = new TestClickHouse();
  let redis: PrivateRedis;
  beforeAll(async () => {
    await clickhouse.start();
  });
  afterAll(async () => {
    // The services stop first (draining what they hold), then what they use.
    await Promise.all(
      children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once("exit", r).kill("SIGTERM")))),
    );
    await hook.stop();
    await redis?.stop();
    await clickhouse.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ingest → worker → delivery, end to end", async () => {
    await hook.start();
    redis = new PrivateRedis(await freePort());
    await redis.start();
    writeFileSync(join(dir, "secret"), secret);
    writeFileSync(
      join(dir, "vigil.yaml"),
      `agents:\n  - id: split-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n` +
        `api_keys:\n  - {name: admin, role: admin, sha256: "${sha256Hex(adminKey)}"}\n` +
        `receivers:\n  - name: hook\n    webhook: {url: "${hook.url}", secret: {file: ${join(dir, "secret")}}}\n` +
        `route:\n  receiver: hook\n  group_wait: 0s\n` +
        `checkpoints:\n  webhooks: [hook]\n`,
    );
    const [ingestPort, apiPort] = [await freePort(), await freePort()];
    const env = {
      PATH: process.env.PATH ?? "",
      ...clickhouse.environment(),
      REDIS_URL: redis.url,
      VIGIL_CONFIG: join(dir, "vigil.yaml"),
      VIGIL_DATA_DIR: dir,
      VIGIL_HOST: "127.0.0.1",
      VIGIL_INGEST_PORT: String(ingestPort),
      VIGIL_API_PORT: String(apiPort),
      VIGIL_CHECKPOINT_INTERVAL_SECONDS: "1",
    };
    await exec(process.execPath, ["--import", "tsx", "services/vigil/src/migrate.ts"], { env });
    for (const [script, port] of [
      ["services/ingest/src/main.ts", await freePort()],
      ["services/worker/src/main.ts", await freePort()],
      ["services/api/src/main.ts", await freePort()],
    ] as const)
      children.push(
        spawn(process.execPath, ["--import", "tsx", script], {
          env: { ...env, VIGIL_METRICS_PORT: String(port) },
          stdio: "inherit",
        }),
      );
    const sent = await until(
      "ingest to answer",
      async () =>
        fetch(`http://127.0.0.1:${ingestPort}/v1/traces`, {
          method: "POST",
          body: jsonTraceRequest([
            {
              traceId: randomBytes(16).toString("hex"),
              attrs: { "session.id": "split-1", "db.query.text": "DROP TABLE t" },
            },
          ]),
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        })
          .then((r) => r.status)
          .catch(() => undefined),
      60_000,
    );
    expect(sent).toBe(200);
    const delivered = await until(
      "the webhook",
      () => hook.valid().find((m) => JSON.stringify(m.body).includes("split-1")),
      60_000,
    );
    expect(delivered.body).toMatchObject({ type: "alert_group.firing" });
    // The separate API answers reader SQL as vigil_sql, and the engine refuses files to it.
    const sql = async (query: string) => {
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/sql`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ sql: query }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await sql("SELECT agent_id, count() AS n FROM spans GROUP BY agent_id")).toMatchObject({
      status: 200,
      body: { rows: [{ agent_id: "split-bot", n: "1" }] },
    });
    expect((await sql("SELECT * FROM agent_tokens")).status).toBe(400);

    // The worker, not ingest, signed the chain ingest wrote, and handed each checkpoint to
    // the webhook (signed per Standard Webhooks, checked by the receiver).
    const checkpointsSent = await until("a checkpoint at the webhook", () => {
      const cps = hook.valid().filter((m) => m.body.type === "ledger.checkpoint");
      return cps.length > 0 ? cps : undefined;
    });
    const witnesses = checkpointsSent.map((m) => {
      const cp = m.body.checkpoint as { chain_id: string; size: number; note: string };
      return { chainId: cp.chain_id, size: cp.size, note: cp.note };
    });
    expect(witnesses[0]?.size).toBeGreaterThan(0);
    const verify = async (body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/verify`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return (await res.json()) as { ok: boolean; checkpoints: { checked: number; valid: number }; summary: string };
    };
    const report = await verify({ witnesses });
    expect(report.ok, report.summary).toBe(true);
    expect(report.checkpoints.valid).toBe(report.checkpoints.checked);
    // A witness that does not match the store (another size under the same signature) is caught.
    const forged = await verify({ witnesses: [{ ...witnesses[0], size: (witnesses[0]?.size ?? 0) + 5 }] });
    expect(forged.ok).toBe(false);

    // The confirmation gate across the split: ingest takes the request (as vigil_ingest),
    // the API's approval is signed with the API's key (as vigil_api), and ingest verifies
    // the token on the span with the public half only.
    const ingestBase = `http://127.0.0.1:${ingestPort}`;
    const statement = "DROP TABLE split_tmp";
    const ask = await fetch(`${ingestBase}/v1/decisions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        description: "drop the scratch table",
        session_id: "split-gate",
        action: { db: { system: "postgresql", statement } },
      }),
    });
    expect(ask.status).toBe(202);
    const { decision_id: decisionId } = (await ask.json()) as { decision_id: string };
    const approved = await fetch(`http://127.0.0.1:${apiPort}/api/decisions/${decisionId}/approve`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ justification: "scratch table" }),
    });
    expect(approved.status).toBe(200);
    const collected = (await (
      await fetch(`${ingestBase}/v1/decisions/${decisionId}?wait=5`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { status: string; approval_token: string };
    expect(collected.status).toBe("approved");
    const gated = await fetch(`${ingestBase}/v1/traces`, {
      method: "POST",
      body: jsonTraceRequest([
        {
          traceId: randomBytes(16).toString("hex"),
          attrs: {
            "session.id": "split-gate",
            "db.system.name": "postgresql",
            "db.query.text": statement,
            "vigil.approval.token": collected.approval_token,
          },
        },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    expect(gated.status).toBe(200);
    expect(await sql("SELECT approval_status AS s FROM spans WHERE session_id = 'split-gate'")).toMatchObject({
      status: 200,
      body: { rows: [{ s: "verified" }] },
    });
    expect(hook.received.filter((m) => m.problems.length > 0)).toEqual([]);
  }, 120_000);
});
