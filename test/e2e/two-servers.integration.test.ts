import { afterAll, expect, it } from "vitest";
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
import { freePort } from "../support/redis-server";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * The sharded read path on real servers: two shards, each a ClickHouse server with its
 * own Vigil (ingest, detection, ledger chain) for its own agent, and a third server that
 * holds no data, only `Distributed` tables over both (`npm run migrate` with
 * VIGIL_CLICKHOUSE_SHARDS). One separate API process on that reader answers for both
 * shards: agents, alerts, sessions, SQL and verify across the two chains.
 */
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "vigil-two-servers-"));
const shards = [new TestClickHouse(), new TestClickHouse()] as const;
let reader: TestClickHouse | undefined;
const vigils: Harness[] = [];
let api: ChildProcess | undefined;
afterAll(async () => {
  if (api !== undefined && api.exitCode === null) await new Promise((r) => api?.once("exit", r).kill("SIGTERM"));
  for (const v of vigils) await v.stop();
  for (const s of [...shards, reader]) await s?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const replica = (s: TestClickHouse) => {
  const user = s.credentials("api");
  return (
    `<shard><replica><host>127.0.0.1</host><port>${s.tcpPort}</port>` +
    `<user>${user.username}</user><password>${user.password}</password></replica></shard>`
  );
};

const send = (h: Harness, agent: string, session: string, attrs: Record<string, string>) =>
  fetch(h.ingestUrl, {
    method: "POST",
    body: jsonTraceRequest([{ traceId: randomBytes(16).toString("hex"), attrs: { "session.id": session, ...attrs } }]),
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens[agent]}` },
  }).then((r) => r.status);

it("stores on two servers through two ingests, each its own chain, and reads both through one API", async () => {
  for (const s of shards) await s.start();
  const agents = ["alpha-bot", "beta-bot"] as const;
  // Shard a signs with its key; shard b's ingest is given the same key file.
  for (const [i, s] of shards.entries()) {
    vigils.push(
      await startVigil([agents[i] as string], {
        clickhouse: s,
        env: {
          VIGIL_CHAIN_ID: `shard-${i}`,
          VIGIL_DETECT_INTERVAL_SECONDS: "1",
          VIGIL_CHECKPOINT_INTERVAL_SECONDS: "1",
          ...(i === 0 ? {} : { VIGIL_SIGNING_KEY_FILE: join(vigils[0]?.dataDir as string, "ledger-signing.key") }),
        },
      }),
    );
  }
  const [a, b] = vigils as [Harness, Harness];
  for (const [h, agent] of [
    [a, "alpha-bot"],
    [b, "beta-bot"],
  ] as const) {
    expect(await send(h, agent, `${agent}-s1`, { "gen_ai.tool.name": "lookup_order" })).toBe(200);
    expect(await send(h, agent, `${agent}-s1`, { "db.query.text": "DROP TABLE orders" })).toBe(200);
  }
  // Each shard's own detection raises its own agent's alert.
  for (const h of vigils)
    await until("each shard's alert", async () => {
      const res = await fetch(`${h.apiUrl}/api/alerts`, { headers: { authorization: `Bearer ${h.apiKeys.admin}` } });
      return ((await res.json()) as { alerts: unknown[] }).alerts.length > 0 || undefined;
    });

  // The reader: no data of its own, a cluster of the two shards in its config.
  reader = new TestClickHouse(
    `<remote_servers><vigil_shards>${shards.map(replica).join("")}</vigil_shards></remote_servers>`,
  );
  await reader.start();
  const adminKey = generateToken("vak_");
  const readerKey = generateToken("vak_");
  writeFileSync(
    join(dir, "vigil.yaml"),
    `agents:\n${agents.map((id) => `  - id: ${id}\n    tokens:\n      - sha256: "${sha256Hex(generateToken())}"\n`).join("")}` +
      `api_keys:\n  - {name: admin, role: admin, sha256: "${sha256Hex(adminKey)}"}\n` +
      `  - {name: reader, role: reader, sha256: "${sha256Hex(readerKey)}"}\n`,
  );
  const apiPort = await freePort();
  const env = {
    PATH: process.env.PATH ?? "",
    ...reader.environment(),
    VIGIL_CONFIG: join(dir, "vigil.yaml"),
    VIGIL_DATA_DIR: dir,
    VIGIL_HOST: "127.0.0.1",
    VIGIL_API_PORT: String(apiPort),
    VIGIL_METRICS_PORT: String(await freePort()),
    VIGIL_LEDGER_PUBLIC_KEY_FILE: join(a.dataDir, "ledger-signing.key.pub"),
  };
  await exec(process.execPath, ["--import", "tsx", "services/vigil/src/migrate.ts"], {
    env: { ...env, VIGIL_CLICKHOUSE_SHARDS: "vigil_shards" },
  });
  api = spawn(process.execPath, ["--import", "tsx", "services/api/src/main.ts"], { env, stdio: "inherit" });
  const get = async (path: string, key = readerKey) => {
    const res = await fetch(`http://127.0.0.1:${apiPort}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  await until(
    "the reader's API",
    () => {
      if (api?.exitCode !== null) throw new Error(`the API exited with ${String(api?.exitCode)}`);
      return get("/healthz")
        .then((r) => r.status === 200 || undefined)
        .catch(() => undefined);
    },
    60_000,
  );

  const listed = (await get("/api/agents")).body.agents as Array<{ id: string; spans: number }>;
  expect(listed.map((x) => [x.id, x.spans])).toEqual([
    ["alpha-bot", 2],
    ["beta-bot", 2],
  ]);
  const alerts = (await get("/api/alerts")).body.alerts as Array<{ alertId: string; agentId: string }>;
  expect(alerts.map((x) => x.agentId).sort()).toEqual(["alpha-bot", "beta-bot"]);
  // A write through the reader lands on a shard (by the table's sharding key) and reads back.
  const beta = alerts.find((x) => x.agentId === "beta-bot") as { alertId: string };
  const acked = await fetch(`http://127.0.0.1:${apiPort}/api/alerts/${beta.alertId}/ack`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ note: "expected cleanup" }),
  });
  expect(acked.status).toBe(201);
  const acknowledged = await until("the ack read back", async () => {
    const one = await get(`/api/alerts/${beta.alertId}`);
    return one.body.acknowledged ?? undefined;
  });
  expect(acknowledged).toMatchObject({ author: "admin", note: "expected cleanup" });
  for (const agent of agents) {
    const session = await get(`/api/sessions/${agent}-s1`);
    expect(session.status, JSON.stringify(session.body)).toBe(200);
    expect(JSON.stringify(session.body)).toContain("DROP TABLE orders");
  }
  // Reader SQL runs on the reader as vigil_sql, across both shards; the engine still refuses the rest.
  const sql = async (query: string) => {
    const res = await fetch(`http://127.0.0.1:${apiPort}/api/sql`, {
      method: "POST",
      headers: { authorization: `Bearer ${readerKey}`, "content-type": "application/json" },
      body: JSON.stringify({ sql: query }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  expect(await sql("SELECT agent_id, count() AS n FROM spans GROUP BY agent_id ORDER BY agent_id")).toMatchObject({
    status: 200,
    body: {
      rows: [
        { agent_id: "alpha-bot", n: "2" },
        { agent_id: "beta-bot", n: "2" },
      ],
    },
  });
  expect((await sql("SELECT * FROM agent_tokens")).status).toBe(400);
  expect((await sql("SELECT * FROM remote('127.0.0.1', system.one)")).status).toBe(400);

  // Verify reads both chains through the Distributed tables, each against its signed checkpoints.
  const verified = await until("both chains checkpointed and verified", async () => {
    const report = (await get("/api/verify", adminKey)).body as {
      ok: boolean;
      chains: Array<{ chainId: string }>;
      checkpoints: { checked: number; valid: number };
    };
    return report.chains.length === 2 && report.checkpoints.checked >= 2 ? report : undefined;
  });
  expect(verified.ok, JSON.stringify(verified)).toBe(true);
  expect(verified.chains.map((c) => c.chainId).sort()).toEqual(["shard-0", "shard-1"]);
  expect(verified.checkpoints.valid).toBe(verified.checkpoints.checked);
  process.stdout.write(
    `two-servers: ${listed.length} agents on 2 shards read through one API; ` +
      `verify: ${verified.chains.length} chains, ${verified.checkpoints.checked} checkpoints, all valid\n`,
  );
}, 180_000);
