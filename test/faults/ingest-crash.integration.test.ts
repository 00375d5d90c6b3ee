import { afterAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { generateToken, sha256Hex } from "@vigil/config";
import { jsonTraceRequest } from "../support/otlp-json";
import { until } from "../support/wait";
import { freePort } from "../support/redis-server";
import { spawnVigil } from "../support/vigil-process";
import { TestClickHouse } from "../support/clickhouse-server";
import type { VigilProcess } from "../support/vigil-process";

/**
 * SIGKILL of the all-in-one during sustained ingest: every acknowledged span is stored
 * after restart, the requests that were cut off are retried and stored once, retried
 * acknowledged requests are not stored twice, and verify is intact. Two kinds of sender:
 * plain HTTP senders that record every answer (and re-send what was cut off, as an
 * exporter would), and the real OTel SDK exporter, whose own retry carries the exports
 * that were in flight at the kill over to the restarted process on the same port.
 */
const token = generateToken();
const adminKey = generateToken("vak_");
const dirs: string[] = [];
const servers: TestClickHouse[] = [];
let child: ChildProcess | undefined;
afterAll(async () => {
  child?.kill("SIGKILL");
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SPANS_PER_REQUEST = 50;
const body = (): string =>
  jsonTraceRequest(
    Array.from({ length: SPANS_PER_REQUEST }, (_, i) => ({
      traceId: randomBytes(16).toString("hex"),
      spanId: (i + 1).toString(16).padStart(16, "0"),
      attrs: { "session.id": "crash", "gen_ai.tool.name": "lookup" },
    })),
  );

// Embedded, the restarted process may read the rows back to ledger them; on a server
// (each service as its own user) ingest may not, and ledgers from its leaf journal.
describe.each(["embedded", "server"] as const)("SIGKILL of the all-in-one (%s)", (placement) => {
  it("keeps every acknowledged span, stores retried ones once, and verifies intact after a SIGKILL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-ingest-crash-"));
    dirs.push(dir);
    let clickhouse: TestClickHouse | undefined;
    if (placement === "server") {
      clickhouse = new TestClickHouse();
      servers.push(clickhouse);
      await clickhouse.start();
    }
    let ingestPort = 0;
    const start = (): VigilProcess => {
      const proc = spawnVigil({
        VIGIL_DATA_DIR: join(dir, "data"),
        VIGIL_CONFIG: join(dir, "vigil.yaml"),
        VIGIL_INGEST_PORT: String(ingestPort),
        ...clickhouse?.environment(),
      });
      child = proc.child;
      return proc;
    };
    writeFileSync(
      join(dir, "vigil.yaml"),
      `agents:\n  - id: load-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n` +
        `api_keys:\n  - {name: admin, role: admin, sha256: "${sha256Hex(adminKey)}"}\n`,
    );
    ingestPort = await freePort();
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

    // The real OTel exporter (protobuf), 20 spans an export, two exports at a time.
    const exporter = new OTLPTraceExporter({
      url: `http://127.0.0.1:${port}/v1/traces`,
      headers: { authorization: `Bearer ${token}` },
      timeoutMillis: 30_000,
    });
    const finished = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(finished)] }).getTracer("crash");
    const exports: Array<{ spans: number; code?: number; inFlightAtKill: boolean }> = [];
    const otelSender = async () => {
      while (!killed) {
        for (let i = 0; i < 20; i++)
          tracer.startSpan("execute_tool lookup", { attributes: { "session.id": "crash-otel" } }).end();
        const spans = finished.getFinishedSpans().slice();
        finished.reset();
        const record: (typeof exports)[number] = { spans: spans.length, inFlightAtKill: false };
        exports.push(record);
        record.code = await new Promise<number>((resolve) => exporter.export(spans, (r) => resolve(r.code)));
      }
    };
    const otelSenders = [otelSender(), otelSender()];

    await until("sustained ingest", () => (acked.length >= 30 ? true : undefined), 60_000);
    first.child.kill("SIGKILL");
    killed = true;
    for (const e of exports) if (e.code === undefined) e.inFlightAtKill = true;
    await Promise.all(senders);
    await first.exited;

    const second = start();
    await Promise.all(otelSenders); // the in-flight exports retry until the new process answers

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
    const otelSpans = exports.reduce((n, e) => n + e.spans, 0);
    const expected = (acked.length + cut.length) * SPANS_PER_REQUEST + otelSpans;
    expect(Number(rows[0]?.u)).toBe(expected); // every span, acknowledged or retried
    expect(Number(rows[0]?.n)).toBe(expected); // none twice
    // Every OTel export succeeded, including those cut off by the kill, retried by the exporter.
    expect(exports.filter((e) => e.code !== ExportResultCode.SUCCESS)).toEqual([]);
    expect(exports.filter((e) => e.inFlightAtKill).length).toBeGreaterThan(0);
    const otelStored = (await api("/api/sql", {
      method: "POST",
      body: JSON.stringify({
        sql: "SELECT count() AS n, uniqExact(trace_id, span_id) AS u FROM spans WHERE session_id = 'crash-otel'",
      }),
    })) as { rows: Array<{ n: string; u: string }> };
    expect(otelStored.rows[0]).toEqual({ n: String(otelSpans), u: String(otelSpans) });
    process.stdout.write(
      `ingest-crash (${placement}): ${acked.length} requests acknowledged before the kill, ${cut.length} cut off and re-sent, ` +
        `${exports.length} OTel exports (${exports.filter((e) => e.inFlightAtKill).length} in flight at the kill, retried by the exporter); ` +
        `stored ${rows[0]?.n} spans = ${expected} expected, ${Number(rows[0]?.n) - Number(rows[0]?.u)} duplicated, ` +
        `${expected - Number(rows[0]?.u)} lost\n`,
    );
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
});
