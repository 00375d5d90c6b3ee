import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { encodeProtobufRequest, richRequest } from "../support/otlp-fixtures";
import { jsonTraceRequest } from "../support/otlp-json";
import { startVigil } from "../support/vigil-harness";
import { until } from "../support/wait";
import type { Harness } from "../support/vigil-harness";

const exec = promisify(execFile);
let h: Harness;
const traceId = "0123456789abcdef0123456789abcdef";

/** Runs the real `vigil` command; returns its exit code and output. */
async function vigil(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["services/cli/bin/vigil.js", ...args], {
      env: { PATH: process.env.PATH ?? "", VIGIL_API_URL: h.apiUrl, ...env },
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

beforeAll(async () => {
  h = await startVigil();
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: Buffer.from(encodeProtobufRequest(richRequest(traceId))),
    headers: { "content-type": "application/x-protobuf", authorization: `Bearer ${h.tokens["support-bot"]}` },
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await h.stop();
});

describe("vigil CLI", () => {
  it("verify: prints that the store is intact and exits 0", async () => {
    const r = await vigil(["verify"], { VIGIL_API_KEY: h.apiKeys.admin });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^intact: 1 batches, 1 rows/);
  });

  it("proof get and proof verify: a span's proof checks offline; an edited proof does not", async () => {
    const file = join(h.dataDir, "proof.json");
    const got = await vigil(["--key", h.apiKeys.reader, "proof", "get", traceId, "eee19b7ec3c1b174", "-o", file]);
    expect(got.err).toBe("");
    expect(got.code).toBe(0);
    const vkey = join(h.dataDir, "ledger-signing.key.vkey");
    const ok = await vigil(["proof", "verify", file, "--public-key", vkey]);
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^valid: span/);

    const forged = join(h.dataDir, "forged.json");
    writeFileSync(forged, readFileSync(file, "utf8").replace("support-bot", "billing-bot"));
    const bad = await vigil(["proof", "verify", forged, "--public-key", readFileSync(vkey, "utf8").trim()]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^INVALID:/);
  });

  it("silence add, list and expire; ack an alert", async () => {
    const key = { VIGIL_API_KEY: h.apiKeys.admin };
    const added = await vigil(
      [
        "silence",
        "add",
        "--agent",
        "support-bot",
        "--detector",
        "new_tool,new_host",
        "--duration",
        "2h",
        "--reason",
        "migration",
      ],
      key,
    );
    expect(added.code).toBe(0);
    const id = /silence (\S+):/.exec(added.out)?.[1] as string;
    expect(added.out).toContain("detector=new_tool|new_host agent=support-bot until");
    const listed = await vigil(["silence", "list"], key);
    expect(listed.out).toMatch(/^ID\s+MATCHES\s+UNTIL\s+BY\s+REASON/);
    expect(listed.out).toContain(id);
    expect(listed.out).toContain("migration");
    expect((await vigil(["silence", "expire", id], key)).code).toBe(0);
    expect((await vigil(["silence", "list"], key)).out).toContain("no active silences");
    const all = JSON.parse((await vigil(["silence", "list", "--all", "--json"], key)).out) as Array<{
      silenceId: string;
    }>;
    expect(all.map((s) => s.silenceId)).toContain(id);
    // A reader may list but not change; a silence without matchers is refused.
    const reader = await vigil(["silence", "add", "--agent", "x", "--duration", "1h", "--reason", "r"], {
      VIGIL_API_KEY: h.apiKeys.reader,
    });
    expect(reader.code).toBe(2);
    expect(reader.err).toContain("403");
    const empty = await vigil(["silence", "add", "--duration", "1h", "--reason", "r"], key);
    expect(empty.code).toBe(2);
    expect(empty.err).toContain("needs at least one of --agent");
    const ack = await vigil(["ack", "no-such-alert"], key);
    expect(ack.code).toBe(2);
    expect(ack.err).toContain("404");
  });

  it("activity, sessions, session, alerts, baselines rebuild and sql: tables by default, JSON on request", async () => {
    const t = BigInt(Date.now() - 10_000) * 1_000_000n;
    const res = await fetch(h.ingestUrl, {
      method: "POST",
      body: jsonTraceRequest([
        {
          traceId: "abcdefabcdefabcdefabcdefabcdef01",
          spanId: "00000000000000e1",
          startNs: t,
          name: "chat",
          attrs: { "session.id": "cli-1", "gen_ai.input.messages": "wipe the archive" },
        },
        {
          traceId: "abcdefabcdefabcdefabcdefabcdef01",
          spanId: "00000000000000e2",
          startNs: t + 1_000_000n,
          name: "run_sql",
          attrs: { "session.id": "cli-1", "db.query.text": "TRUNCATE archive" },
        },
      ]),
      headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["support-bot"]}` },
    });
    expect(res.status).toBe(200);
    const key = { VIGIL_API_KEY: h.apiKeys.reader };
    await until("the alert", async () =>
      (await vigil(["alerts", "--json"], key)).out.includes("cli-1") ? true : undefined,
    );

    const activity = await vigil(["activity", "support-bot", "--since", "1h"], key);
    expect(activity.code).toBe(0);
    expect(activity.out).toMatch(/^TIME\s+ACTION\s+CAUSED BY\s+ALERTS\s+SESSION/);
    expect(activity.out).toMatch(
      /TRUNCATE on archive\s+wipe the archive\s+critical:destructive_without_approval\s+cli-1/,
    );
    const json = JSON.parse((await vigil(["activity", "support-bot", "--json"], key)).out) as Array<{ spanId: string }>;
    expect(json.map((a) => a.spanId)).toContain("00000000000000e2");

    const sessions = await vigil(["sessions", "--alerts"], key);
    expect(sessions.out).toMatch(/^SESSION\s+AGENT\s+START\s+SPANS\s+ALERTS\ncli-1\s+support-bot/);
    const session = await vigil(["session", "cli-1"], key);
    expect(session.out).toContain("input: wipe the archive");
    expect(session.out).toContain("DESTRUCTIVE (TRUNCATE)");
    expect((await vigil(["session", "nope"], key)).err).toContain("404");

    const alerts = await vigil(["alerts", "--severity", "critical"], key);
    expect(alerts.out).toMatch(/^ID\s+RAISED\s+EVENT TIME\s+SEVERITY\s+DETECTOR\s+AGENT\s+SUMMARY/);
    expect(alerts.out).toContain("destructive_without_approval");

    expect((await vigil(["baselines", "rebuild"], key)).err).toContain("403");
    const rebuilt = await vigil(["baselines", "rebuild"], { VIGIL_API_KEY: h.apiKeys.admin });
    expect(rebuilt.out).toMatch(/^rebuilt 2 baseline\(s\), one per agent and environment; 2 still learning; \d+ ms/);

    const sql = await vigil(
      ["sql", "SELECT session_id, count() AS n FROM spans WHERE session_id = 'cli-1' GROUP BY session_id"],
      key,
    );
    expect(sql.out).toMatch(/^session_id\s+n\ncli-1\s+"?2"?\n\(1 row\(s\), \d+ ms\)/);
    const refused = await vigil(["sql", "DROP TABLE spans"], key);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("400");
  });

  it("token create, list and revoke: a new token ingests at once, a revoked one is refused within seconds", async () => {
    const admin = { VIGIL_API_KEY: h.apiKeys.admin };
    const created = await vigil(["token", "create", "--agent", "new-bot", "--name", "ci", "--expires", "90d"], admin);
    expect(created.code).toBe(0);
    const secret = /^  (vgl_\S+)$/m.exec(created.out)?.[1] as string;
    const id = /^token (\S+) for new-bot, expires /.exec(created.out)?.[1] as string;
    expect(secret).toBeTruthy();
    const send = () =>
      fetch(h.ingestUrl, {
        method: "POST",
        body: jsonTraceRequest([{ traceId: "abcdefabcdefabcdefabcdefabcdef02", attrs: {} }]),
        headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
      }).then((r) => r.status);
    await until("the new token accepted", async () => ((await send()) === 200 ? true : undefined));
    const listed = await vigil(["token", "list", "--agent", "new-bot"], admin);
    expect(listed.out).toMatch(/^ID\s+AGENT\s+NAME\s+SHA256\s+ENVIRONMENT\s+EXPIRES\s+STATE/);
    expect(listed.out).toContain("active");
    expect(listed.out).not.toContain(secret);
    expect((await vigil(["token", "list"], { VIGIL_API_KEY: h.apiKeys.reader })).err).toContain("403");
    expect((await vigil(["token", "revoke", id], admin)).code).toBe(0);
    await until("the revoked token refused", async () => ((await send()) === 401 ? true : undefined));
    expect((await vigil(["token", "list", "--agent", "new-bot"], admin)).out).toContain("revoked");
    // A row that says "not revoked", stamped an hour later (a replica whose clock runs
    // ahead): revocation stays terminal.
    await h.vigil.client.command({
      query: `INSERT INTO agent_tokens SELECT token_id, changed_at + INTERVAL 1 HOUR, agent_id, name, sha256, environment,
                expires_at, created_by, 0, 'fast-clock' FROM agent_tokens WHERE token_id = {id:String} AND revoked = 0`,
      query_params: { id },
    });
    await h.vigil.ingest.tokens.refresh();
    expect(await send()).toBe(401);
    expect((await vigil(["token", "list", "--agent", "new-bot"], admin)).out).toContain("revoked");
    const config = await vigil(["token", "revoke", "config:support-bot:0"], admin);
    expect(config.code).toBe(2);
    expect(config.err).toContain("declared in the config file");
  });

  it("import: an admin key imports an agent's history; the agent's own token may not", async () => {
    const file = join(h.dataDir, "history.json");
    const day = 86_400_000_000_000n;
    const t = BigInt(Date.now()) * 1_000_000n - 8n * day;
    writeFileSync(
      file,
      jsonTraceRequest([
        {
          traceId: "feedfacefeedfacefeedfacefeedface",
          spanId: "00000000000000f1",
          startNs: t,
          attrs: { "gen_ai.tool.name": "archive_tickets" },
        },
      ]),
    );
    const ingest = h.ingestUrl.replace(/\/v1\/traces$/, "");
    const asAgent = await vigil(["import", file, "--agent", "billing-bot", "--ingest", ingest], {
      VIGIL_API_KEY: h.tokens["billing-bot"] as string,
    });
    expect(asAgent.code).toBe(2);
    expect(asAgent.err).toContain("import refused (401)");
    const ok = await vigil(["import", file, "--agent", "billing-bot", "--ingest", ingest], {
      VIGIL_API_KEY: h.apiKeys.admin,
    });
    expect(ok.err).toBe("");
    expect(ok.out.trim()).toBe(`imported ${file} as billing-bot's history`);
    await h.vigil.ingest.drain();
    const rs = await h.vigil.client.query({
      query: "SELECT backfill FROM spans WHERE agent_id = 'billing-bot' AND tool = 'archive_tickets'",
      format: "JSONEachRow",
    });
    expect(await rs.json()).toEqual([{ backfill: false }]);
  });

  it("exits 2 with a clear message without a key, with a wrong key, or when the API is down", async () => {
    const noKey = await vigil(["verify"]);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/no API key/);
    const wrong = await vigil(["verify", "--key", "vak_nope"]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/401/);
    const down = await vigil(["verify"], { VIGIL_API_KEY: "k", VIGIL_API_URL: "http://127.0.0.1:9" });
    expect(down.code).toBe(2);
    expect(down.err).toMatch(/cannot reach the Vigil API/);
  });
});
