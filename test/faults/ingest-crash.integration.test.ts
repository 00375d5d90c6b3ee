import { afterAll, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { generateToken, sha256Hex } from "@vigil/config";
import { jsonTraceRequest } from "../support/otlp-json";
import { until } from "../support/wait";
import { spawnVigil } from "../support/vigil-process";
import type { VigilProcess } from "../support/vigil-process";

/**
 * SIGKILL of the all-in-one during sustained ingest: every acknowledged span is stored
 * after restart, the requests that were cut off are retried (as an OTel exporter does)
 * and stored once, retried acknowledged requests are not stored twice, and verify is intact.
 */
const dir = mkdtempSync(join(tmpdir(), "vigil-ingest-crash-"));
const token = generateToken();
const adminKey = generateToken("vak_");
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function start(): VigilProcess {
  const proc = spawnVigil({ VIGIL_DATA_DIR: join(dir, "data"), VIGIL_CONFIG: join(dir, "vigil.yaml") });
  child = proc.child;
  return proc;
}

const SPANS_PER_REQUEST = 50;
const body = (): string =>
  jsonTraceRequest(
    Array.from({ length: SPANS_PER_REQUEST }, (_, i) => ({
      traceId: randomBytes(16).toString("hex"),
      spanId: (i + 1).toString(16).padStart(16, "0"),
      attrs: { "session.id": "crash", "gen_ai.tool.name": "lookup" },
    })),
  );

it("keeps every acknowledged span, stores retried ones once, and verifies intact after a SIGKILL", async () => {
  writeFileSync(
    join(dir, "vigil.yaml"),
    `agents:\n  - id: load-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n` +
      `api_keys:\n  - {name: admin, role: admin, sha256: "${sha256Hex(adminKey)}"}\n`,
  );
  const first = start();
  const port = await until("the ingest port", () => /"ingestPort":(\d+)/.exec(first.output())?.[1], 60_000);
  const send = (url: string, b: string) =>
    fetch(url, {
      method: "POST",
      body: b,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    }).then(
      (r) => r.status,
      () => 0,
    );
  const acked: string[] = [];
  const cut: string[] = [];
  let killed = false;
  const sender = async () => {
    while (!killed) {
      const b = body();
      const status = await send(`http://127.0.0.1:${port}/v1/traces`, b);
      (status === 200 ? acked : cut).push(b);
    }
  };
  const senders = Array.from({ length: 6 }, sender);

  await until("sustained ingest", () => (acked.length >= 30 ? true : undefined), 60_000);
  first.child.kill("SIGKILL");
  killed = true;
  await Promise.all(senders);
  await first.exited;

  const second = start();

  const port2 = await until("the ingest port again", () => /"ingestPort":(\d+)/.exec(second.output())?.[1], 60_000);
  const apiPort = await until("the API port", () => /"apiPort":(\d+)/.exec(second.output())?.[1]);
  // The exporter retries what was not acknowledged, and (at-least-once) some that were.
  for (const b of [...cut, ...acked.slice(0, 5)])
    expect(await send(`http://127.0.0.1:${port2}/v1/traces`, b)).toBe(200);
  const api = async (path: string, init: RequestInit = {}) =>
    (await fetch(`http://127.0.0.1:${apiPort}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    }).then((r) => r.json())) as Record<string, unknown>;
  const { rows } = (await api("/api/sql", {
    method: "POST",
    body: JSON.stringify({ sql: "SELECT count() AS n, uniqExact(trace_id, span_id) AS u FROM spans" }),
  })) as { rows: Array<{ n: string; u: string }> };
  const expected = (acked.length + cut.length) * SPANS_PER_REQUEST;
  expect(Number(rows[0]?.u)).toBe(expected); // every span, acknowledged or retried
  expect(Number(rows[0]?.n)).toBe(expected); // none twice
  // A batch stored but not yet ledgered when the process died is ledgered by the restarted
  // ingest once no other replica could still be about to (10 s after start).
  const verify = await until(
    "verify intact",
    async () => {
      const v = await api("/api/verify");
      return v.ok === true ? v : undefined;
    },
    30_000,
  );
  expect(verify.summary).toMatch(/^intact/);
  second.child.kill("SIGTERM");
  await second.exited;
}, 120_000);
