import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseVerifierKey, readWitnessCheckpoints, verifyStore } from "@vigil/store";
import type { VerifyReport } from "@vigil/store";
import { runCli } from "../../services/cli/src/program";
import { jsonTraceRequest } from "../support/otlp-json";
import { apiCall, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * Whoever can write the data directory can truncate history consistently: drop the last
 * batches, their ledger entries and the stored checkpoints. The store then verifies as
 * intact, because everything it still holds agrees. A witness file outside the data
 * directory keeps every signed checkpoint, and verification checks the store against it.
 */
let h: Harness;
const witnessDir = mkdtempSync(join(tmpdir(), "vigil-witness-"));
const witnessFile = join(witnessDir, "checkpoints.jsonl");

beforeAll(async () => {
  h = await startVigil(["ledger-bot"], { env: { VIGIL_CHECKPOINT_WITNESS_FILE: witnessFile } });
});

afterAll(async () => {
  await h?.stop();
  rmSync(witnessDir, { recursive: true, force: true });
});

const send = async (i: number) => {
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: jsonTraceRequest([{ traceId: (0xbee0 + i).toString(16).padStart(32, "0"), attrs: {} }]),
    headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["ledger-bot"]}` },
  });
  await res.arrayBuffer();
  return res.status;
};

describe("checkpoints witnessed outside the store", () => {
  it("writes each signed checkpoint to the witness file, and the intact store verifies against it", async () => {
    for (let i = 0; i < 3; i++) expect(await send(i)).toBe(200);
    await h.vigil.checkpointer.checkpoint();
    const witnessed = readWitnessCheckpoints(witnessFile);
    expect(witnessed.map((w) => [w.chainId, w.size])).toEqual([["main", 3]]);
    expect(witnessed[0]?.note).toMatch(/^vigil-ledger\/main\n3\n/);
    const report = (await apiCall(h, "/api/verify", h.apiKeys.admin)).body as VerifyReport;
    expect(report).toMatchObject({ ok: true, checkpoints: { checked: 2, valid: 2 } });
  });

  it("catches a consistent truncation of history that the store alone no longer shows", async () => {
    const mutate = (query: string) => h.vigil.client.command({ query, clickhouse_settings: { mutations_sync: "2" } });
    const rs = await h.vigil.client.query({
      query: "SELECT toString(batch_id) AS b FROM ledger WHERE seq = 3",
      format: "JSONEachRow",
    });
    const [last] = await rs.json<{ b: string }>();
    await mutate(`ALTER TABLE spans DELETE WHERE batch_id = '${last?.b}'`);
    await mutate("ALTER TABLE ledger DELETE WHERE seq = 3");
    await mutate("ALTER TABLE ledger_checkpoints DELETE WHERE 1");

    // What the store still holds agrees with itself.
    const key = parseVerifierKey(readFileSync(join(h.dataDir, "ledger-signing.key.vkey"), "utf8").trim());
    const alone = await verifyStore(h.vigil.client, key);
    expect(alone.ok).toBe(true);

    // Against the witness it does not.
    const report = (await apiCall(h, "/api/verify", h.apiKeys.admin)).body as VerifyReport;
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: "chain_broken",
        detail: expect.stringContaining("covers 3 entries but the ledger holds 2"),
      }),
    );

    // And from the CLI, with a witness file an operator kept elsewhere.
    let out = "";
    const code = await runCli(["--api", h.apiUrl, "--key", h.apiKeys.admin, "verify", "--witness", witnessFile], {
      env: {},
      print: (s) => (out += `${s}\n`),
      printError: (s) => (out += `${s}\n`),
    });
    expect(code).toBe(1);
    expect(out).toMatch(/^NOT intact/);
    expect(
      readFileSync(witnessFile, "utf8")
        .split("\n")
        .filter((l) => l !== ""),
    ).toHaveLength(1);
  });
});
