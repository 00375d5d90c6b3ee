import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { generateToken, sha256Hex } from "@vigil/config";
import { jsonTraceRequest } from "../support/otlp-json";
import { until } from "../support/wait";
import { spawnVigil } from "../support/vigil-process";
import type { VigilProcess } from "../support/vigil-process";

/**
 * The store refusing writes, simulated at the filesystem level under a running all-in-one:
 *
 * - read-only: the table directories are made immutable (chattr +i), so the engine can
 *   create no part (EPERM, which root cannot bypass; a read-only remount is refused while
 *   the engine holds its status file open for writing);
 * - disk full: the data directory is a tmpfs of fixed size, filled to the last byte.
 *
 * Each time ingest must answer 503 with Retry-After, store nothing of the refused
 * requests, and take them (sent again, as an exporter does) once the filesystem is back.
 * It needs mount and chattr (root); without them the test is skipped with the reason
 * printed, and CI (`.ci/run` sets VIGIL_REQUIRE_MOUNT=1) fails instead.
 */
const root = mkdtempSync(join(tmpdir(), "vigil-fs-faults-"));
const mountPoint = join(root, "mnt");
const dataDir = join(mountPoint, "data");
const token = generateToken();
const adminKey = generateToken("vak_");

function tryMount(): string | undefined {
  try {
    execFileSync("mkdir", ["-p", mountPoint]);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=160m", "tmpfs", mountPoint], { stdio: "pipe" });
    execFileSync("chattr", ["-i", mountPoint], { stdio: "pipe" });
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}
const mountError = tryMount();
if (mountError !== undefined) {
  if (process.env.VIGIL_REQUIRE_MOUNT === "1") throw new Error(`cannot mount a tmpfs for the test: ${mountError}`);
  process.stderr.write(`store-refuses-writes: skipped, cannot mount a tmpfs (needs root): ${mountError}\n`);
}

const SPANS = 40;
const body = (session: string): string =>
  jsonTraceRequest(
    Array.from({ length: SPANS }, (_, i) => ({
      traceId: randomBytes(16).toString("hex"),
      spanId: (i + 1).toString(16).padStart(16, "0"),
      attrs: { "session.id": session, "gen_ai.tool.name": "lookup" },
    })),
  );

/** Every table directory of the engine: where new parts are created. */
function tableDirs(): string[] {
  const store = join(dataDir, "clickhouse", "store");
  return readdirSync(store).flatMap((prefix) => readdirSync(join(store, prefix)).map((t) => join(store, prefix, t)));
}
const chattr = (flag: "+i" | "-i", dirs: string[]) => execFileSync("chattr", [flag, ...dirs]);

describe.skipIf(mountError !== undefined)("the store refusing writes (filesystem level)", () => {
  let vigil: VigilProcess;
  let ingestUrl = "";
  let apiUrl = "";
  let immutable: string[] = [];
  let filler: string | undefined;

  beforeAll(async () => {
    writeFileSync(
      join(root, "vigil.yaml"),
      `agents:\n  - id: fs-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n` +
        `api_keys:\n  - {name: admin, role: admin, sha256: "${sha256Hex(adminKey)}"}\n`,
    );
    vigil = spawnVigil({ VIGIL_DATA_DIR: dataDir, VIGIL_CONFIG: join(root, "vigil.yaml") });
    ingestUrl = `http://127.0.0.1:${await until("the ingest port", () => /"ingestPort":(\d+)/.exec(vigil.output())?.[1], 60_000)}/v1/traces`;
    apiUrl = `http://127.0.0.1:${await until("the API port", () => /"apiPort":(\d+)/.exec(vigil.output())?.[1])}`;
  });

  afterAll(async () => {
    if (immutable.length > 0) chattr("-i", immutable);
    if (filler !== undefined) rmSync(filler, { force: true });
    vigil?.child.kill("SIGKILL");
    await vigil?.exited;
    if (mountError === undefined) execFileSync("umount", ["-l", mountPoint]);
    rmSync(root, { recursive: true, force: true });
  });

  const send = async (b: string) => {
    const res = await fetch(ingestUrl, {
      method: "POST",
      body: b,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), text: await res.text() };
  };
  const sql = async (query: string) => {
    const res = await fetch(`${apiUrl}/api/sql`, {
      method: "POST",
      body: JSON.stringify({ sql: query }),
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    });
    return ((await res.json()) as { rows: Array<Record<string, string>> }).rows;
  };
  const storedIn = async (session: string) =>
    Number((await sql(`SELECT count() AS n FROM spans WHERE session_id = '${session}'`))[0]?.n);

  /** Sends the refused requests again until they are taken, as an exporter's retry would. */
  const retryUntilTaken = (bodies: string[]) =>
    until(
      "the refused requests to be taken",
      async () => {
        for (const b of bodies) if ((await send(b)).status !== 200) return undefined;
        return true;
      },
      60_000,
    );

  const counts = { acknowledged: 0, refused: 0 };

  it("takes writes before the fault", async () => {
    for (let i = 0; i < 3; i++) expect((await send(body("before"))).status).toBe(200);
    counts.acknowledged += 3;
    expect(await storedIn("before")).toBe(3 * SPANS);
  });

  it("read-only table directories: 503 with Retry-After, nothing stored, taken once writable again", async () => {
    immutable = tableDirs();
    chattr("+i", immutable);
    const refused = [body("readonly"), body("readonly"), body("readonly")];
    for (const b of refused) {
      const res = await send(b);
      expect(res.status).toBe(503);
      expect(Number(res.retryAfter)).toBeGreaterThan(0);
    }
    counts.refused += refused.length;
    // Refused for the reason simulated (the log names it; the answer does not show paths).
    expect(vigil.output()).toMatch(/storing spans failed.*Operation not permitted/);
    expect(await storedIn("readonly")).toBe(0); // reads still work; no partial rows

    chattr("-i", immutable);
    immutable = [];
    await retryUntilTaken(refused);
    counts.acknowledged += refused.length;
    expect(await storedIn("readonly")).toBe(refused.length * SPANS); // each request once
  });

  it("disk full: 503 with Retry-After, nothing stored, taken once space is freed", async () => {
    filler = join(mountPoint, "filler");
    // Fill the tmpfs to the last byte (dd stops with "No space left on device").
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=1M"], { stdio: "pipe" });
    } catch {
      // expected: ENOSPC
    }
    expect(execFileSync("df", ["--output=avail", mountPoint]).toString()).toMatch(/\n\s*0\s*$/);
    const refused = [body("diskfull"), body("diskfull")];
    for (const b of refused) {
      const res = await send(b);
      expect(res.status).toBe(503);
      expect(Number(res.retryAfter)).toBeGreaterThan(0);
    }
    counts.refused += refused.length;
    expect(vigil.output()).toMatch(/storing spans failed.*(not enough space|No space left on device)/);
    expect(await storedIn("diskfull")).toBe(0);

    rmSync(filler);
    filler = undefined;
    await retryUntilTaken(refused);
    counts.acknowledged += refused.length;
    expect(await storedIn("diskfull")).toBe(refused.length * SPANS);
  });

  it("lost nothing, stored nothing twice, and the ledger verifies intact", async () => {
    expect((await send(body("after"))).status).toBe(200);
    counts.acknowledged += 1;
    const [row] = await sql("SELECT count() AS n, uniqExact(trace_id, span_id) AS u FROM spans");
    expect(Number(row?.n)).toBe(counts.acknowledged * SPANS);
    expect(Number(row?.u)).toBe(counts.acknowledged * SPANS);
    const verify = await until(
      "verify intact",
      async () => {
        const v = (await fetch(`${apiUrl}/api/verify`, { headers: { authorization: `Bearer ${adminKey}` } }).then((r) =>
          r.json(),
        )) as { ok: boolean; summary: string };
        return v.ok ? v : undefined;
      },
      30_000,
    );
    expect(verify.summary).toMatch(/^intact/);
    process.stdout.write(
      `store-refuses-writes: ${counts.refused} requests refused with 503 while the store could not write, ` +
        `${counts.acknowledged} acknowledged in all; stored ${row?.n} spans = ${counts.acknowledged * SPANS} expected, ` +
        `${Number(row?.n) - Number(row?.u)} duplicated, ${counts.acknowledged * SPANS - Number(row?.u)} lost\n`,
    );
  });
});
