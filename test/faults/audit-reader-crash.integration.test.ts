import { afterAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateToken, sha256Hex } from "@vigil/config";
import { CAPTURED } from "../corpora/db-audit-lines";
import { until } from "../support/wait";
import { spawnVigil } from "../support/vigil-process";
import type { VigilProcess } from "../support/vigil-process";

/**
 * The built-in audit log reader, SIGKILLed while it reads a large pgAudit jsonlog file,
 * then the file rotated (renamed, its tail written after the rename, a new file begun)
 * before the restart: every record is stored exactly once, none lost, none twice.
 */
const token = generateToken();
const adminKey = generateToken("vak_");
const dir = mkdtempSync(join(tmpdir(), "vigil-audit-crash-"));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Distinct pgAudit lines in the captured format (each its own session line number). */
const lines = (from: number, n: number): string =>
  Array.from({ length: n }, (_, i) =>
    CAPTURED.pgJsonInsert
      .replace('"line_num":2', `"line_num":${from + i}`)
      .replace("insert into orders values (1)", `insert into orders values (${from + i})`),
  ).join("\n") + "\n";

describe("the audit log reader across a SIGKILL and a log rotation", () => {
  it("stores every record exactly once", async () => {
    const log = join(dir, "postgresql.json");
    writeFileSync(
      join(dir, "vigil.yaml"),
      `agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n` +
        `api_keys:\n  - {name: admin, role: admin, sha256: "${sha256Hex(adminKey)}"}\n` +
        `audit:\n  sources:\n    - id: orders-pg\n      format: pgaudit-jsonlog\n      file: ${log}\n` +
        "      users:\n        - {user: agent_db, agent: support-bot}\n",
    );
    const BEFORE = 60_000;
    writeFileSync(log, lines(1, BEFORE));
    const start = (): VigilProcess => {
      const proc = spawnVigil({ VIGIL_DATA_DIR: join(dir, "data"), VIGIL_CONFIG: join(dir, "vigil.yaml") });
      child = proc.child;
      return proc;
    };
    const stored = async (proc: VigilProcess): Promise<{ n: number; u: number }> => {
      const apiPort = await until("the API port", () => /"apiPort":(\d+)/.exec(proc.output())?.[1], 60_000);
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/sql`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ sql: "SELECT count() AS n, uniqExact(trace_id) AS u FROM spans" }),
      });
      const { rows } = (await res.json()) as { rows: Array<{ n: string; u: string }> };
      return { n: Number(rows[0]?.n), u: Number(rows[0]?.u) };
    };

    const first = start();
    const atKill = await until(
      "the reader part way through the file",
      async () => {
        const s = await stored(first).catch(() => ({ n: 0, u: 0 }));
        return s.n > 0 ? s : undefined;
      },
      60_000,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    expect(atKill.n).toBeLessThan(BEFORE); // killed mid-log

    // Rotation while Vigil is down: the old file renamed, the database finishing its
    // last lines into it, then a new file.
    const TAIL = 500;
    const AFTER = 1500;
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, lines(BEFORE + 1, TAIL));
    writeFileSync(log, lines(BEFORE + TAIL + 1, AFTER));
    const total = BEFORE + TAIL + AFTER;

    const second = start();
    const final = await until(
      "every record stored",
      async () => {
        const s = await stored(second).catch(() => ({ n: 0, u: 0 }));
        return s.u >= total ? s : undefined;
      },
      120_000,
    );
    // The reader goes on from its saved position, so a record read twice would be
    // stored (and deduplicated or not) before any record after it: by now all are in.
    const settled = final;
    process.stdout.write(
      `audit-reader-crash: ${atKill.n} of ${BEFORE} records stored at the SIGKILL; after restart and rotation ` +
        `${settled.n} stored of ${total} written, ${settled.u} distinct (${settled.n - settled.u} twice, ${total - settled.u} lost)\n`,
    );
    expect(settled).toEqual({ n: total, u: total });
  }, 240_000);
});
