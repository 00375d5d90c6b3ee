import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vigil/common";
import { generateToken, parseVigilConfig, sha256Hex } from "@vigil/config";
import { AuditJudge } from "@vigil/detect";
import { createIngestService } from "@vigil/service-ingest";
import type { IngestService } from "@vigil/service-ingest";
import { openStoreClient, runMigrations } from "@vigil/store";
import type { ClickHouseClient } from "@vigil/store";
import { CAPTURED } from "../corpora/db-audit-lines";

/**
 * The audit judge holds each record until its matching window has passed. A process
 * that dies while records are held, and stays down longer than the windows it reads back
 * on a plain restart, must still judge them: the judge's saved position says what was
 * judged, and a fresh judge starts from there. The real ingest stores the record (the
 * captured refused DELETE); two judges play the process before and after the crash.
 */
const dir = mkdtempSync(join(tmpdir(), "vigil-judge-restart-"));
let client: ClickHouseClient;
let ingest: IngestService;
const config = parseVigilConfig(
  `agents:\n  - id: ops-bot\n    tokens:\n      - sha256: "${sha256Hex(generateToken())}"\n` +
    "audit:\n  match_window_seconds: 1\n  silence_minutes: 1\n  sources:\n" +
    `    - id: orders-pg\n      format: pgaudit-jsonlog\n      tokens:\n        - sha256: "${sha256Hex(generateToken())}"\n` +
    "      users:\n        - {user: agent_ro, agent: ops-bot}\n",
);
const agents = new Map(config.agents.map((a) => [a.id, a]));

beforeAll(async () => {
  client = openStoreClient({ mode: "embedded", dataDir: dir });
  await runMigrations(client);
  ingest = await createIngestService({ client, config, logger: createLogger("error") });
});

afterAll(async () => {
  ingest?.stop();
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the audit judge across a crash", () => {
  it("judges a record held at the crash after a restart long after its window", async () => {
    const receivedAtMs = Date.now();
    const stored = await ingest.audit.store("orders-pg", [CAPTURED.pgJsonRefusedDelete], receivedAtMs);
    expect(stored.stored).toBe(1);
    await ingest.drain();

    // Before the crash: the judge holds the record (read back at its start), its window not yet over.
    const before = new AuditJudge(config.audit);
    expect(await before.judge(client, receivedAtMs + 10, agents)).toEqual([]);
    expect(before.waiting).toBe(1);
    await before.commit(client);
    // The process dies here, and comes back ten minutes later (far past 2 windows + silence).

    const after = new AuditJudge(config.audit);
    const alerts = await after.judge(client, receivedAtMs + 10 * 60_000, agents);
    expect(alerts.map((a) => a.detector).sort()).toEqual(["telemetry_silent", "unreported_action"]);
    const unreported = alerts.find((a) => a.detector === "unreported_action");
    expect(unreported?.evidence.observed).toMatchObject({
      statement: "DELETE FROM orders WHERE id > 0",
      refused: true,
    });
    await after.commit(client);

    // Once judged and committed, a further restart judges it no more.
    const again = new AuditJudge(config.audit);
    expect(await again.judge(client, receivedAtMs + 20 * 60_000, agents)).toEqual([]);
    expect(again.waiting).toBe(0);
  });
});
