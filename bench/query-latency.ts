/**
 * Investigation latency on a large store (`npm run bench` runs it in its own process;
 * `tsx bench/query-latency.ts [spans]` alone). Fills a fresh embedded store with
 * synthetic agent traffic generated inside the engine (INSERT ... SELECT FROM numbers,
 * through the same materialized views as ingest: 50 agents, 20-step sessions of one
 * trace each, 30 days up to now), then times the real HTTP API and console: the session
 * view, the activity endpoint for the last hour, and the sessions list.
 * Prints one JSON line: { spans, fillSeconds, <query>: {p50Ms, p99Ms} }.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHttpServer } from "@vigil/common";
import { generateToken, parseVigilConfig, sha256Hex } from "@vigil/config";
import { createApiApp } from "@vigil/service-api";
import { openStoreClient, runMigrations } from "@vigil/store";

const SPANS = Number(process.argv[2] ?? 10_000_000);
const CHUNK = 1_000_000;
const AGENTS = 50;
const STEPS = 20;
const DAYS = 30;
const RUNS = 30;

const dir = mkdtempSync(join(tmpdir(), "vigil-bench-query-"));
const client = openStoreClient({ mode: "embedded", dataDir: dir });
await runMigrations(client);

const sessions = Math.ceil(SPANS / STEPS);
const endNs = BigInt(Date.now()) * 1_000_000n;
const stepNs = (BigInt(DAYS) * 86_400_000_000_000n) / BigInt(sessions);
const baseNs = endNs - BigInt(DAYS) * 86_400_000_000_000n;
const fillStarted = performance.now();
for (let start = 0; start < SPANS; start += CHUNK) {
  // Step p of a session: 0 model input, 1 tool call, 2 database statement (every 50th
  // session a DELETE), 3 outbound call; ids are hashes of the numbers.
  await client.command({
    query: `INSERT INTO spans (agent_id, start_time, end_time, trace_id, span_id, parent_span_id, name, kind, status_code,
              session_id, attributes, events, links, resource_attributes, scope_name, scope_attributes, received_at, batch_id, request_digest,
              environment, operation, tool, db_system, db_operation, db_tables, outbound_host, credential_id, input,
              input_source, destructive, destructive_reason)
            SELECT concat('agent-', toString(s % ${AGENTS})),
              fromUnixTimestamp64Nano(toInt64(${baseNs} + s * ${stepNs} + p * 100000000), 'UTC') AS t,
              fromUnixTimestamp64Nano(toInt64(${baseNs} + s * ${stepNs} + p * 100000000 + 40000000), 'UTC'),
              lower(concat(hex(cityHash64(s, 1)), hex(cityHash64(s, 2)))),
              lower(hex(cityHash64(number, 3))),
              if(p = 0, '', lower(hex(cityHash64(s * ${STEPS}, 3)))),
              multiIf(p % 4 = 0, 'chat', p % 4 = 1, 'execute_tool lookup', p % 4 = 2, 'run_sql', 'http POST'),
              if(p % 4 = 3, 3, 1), 1,
              concat('sess-', toString(s)),
              concat('{"gen_ai.request.model":{"stringValue":"claude-sonnet-4-5"},"step":{"intValue":"', toString(p), '"}}'),
              '[]', '[]', '{"service.name":{"stringValue":"agent"}}', '@vigil/agent-sdk', '{}', t, generateUUIDv4(), '',
              'production',
              multiIf(p % 4 = 0, 'chat', 'execute_tool'),
              if(p % 4 = 1, concat('lookup_', toString(p % 7)), ''),
              if(p % 4 = 2, 'postgresql', ''),
              if(p % 4 = 2, if(s % 50 = 0 AND p = 18, 'DELETE', 'SELECT'), ''),
              if(p % 4 = 2, [concat('table_', toString(s % 9))], []),
              if(p % 4 = 3, concat('api-', toString(s % 5), '.example.com'), ''),
              if(p % 4 = 3, concat('cred-', toString(s % ${AGENTS})), ''),
              if(p % 4 = 0, concat('Customer ', toString(s), ' asks about ticket ', toString(number), ': please look into the billing history'), ''),
              if(p % 4 = 0, 'gen_ai.input.messages', ''),
              s % 50 = 0 AND p = 18, if(s % 50 = 0 AND p = 18, 'DELETE without WHERE', '')
            FROM (SELECT number, intDiv(number, ${STEPS}) AS s, number % ${STEPS} AS p FROM numbers(${start}, ${Math.min(CHUNK, SPANS - start)}))`,
  });
  process.stderr.write(`query bench: ${Math.min(SPANS, start + CHUNK).toLocaleString("en-US")} spans stored\n`);
}
await client.command({ query: "OPTIMIZE TABLE span_session_index FINAL" });
const fillSeconds = (performance.now() - fillStarted) / 1000;

const key = generateToken("vak_");
const app = createApiApp({
  client,
  config: parseVigilConfig(`api_keys:\n  - {name: bench, role: reader, sha256: "${sha256Hex(key)}"}\n`),
  hostName: "bench",
});
const server = await startHttpServer(app, 0, "127.0.0.1");
const base = `http://127.0.0.1:${server.port}`;
// The newest session of agent-7: its steps and the agent's last hour are what an investigator opens first.
const newest = sessions - 1 - ((sessions - 1 - 7) % AGENTS);
const timed = async (
  path: string,
  headers: Record<string, string>,
): Promise<{ p50Ms: number; p99Ms: number; bytes: number }> => {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS + 3; i++) {
    const t = performance.now();
    const res = await fetch(`${base}${path}`, { headers });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
    if (i >= 3) ms.push(performance.now() - t); // the first runs warm the caches
    bytes = body.length;
  }
  ms.sort((a, b) => a - b);
  return { p50Ms: Math.round(ms[Math.floor(ms.length / 2)] as number), p99Ms: Math.round(ms.at(-1) as number), bytes };
};
const auth = { authorization: `Bearer ${key}` };
const login = await fetch(`${base}/login`, {
  method: "POST",
  body: new URLSearchParams({ key, next: "/" }),
  headers: { origin: base },
  redirect: "manual",
});
const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
const result = {
  spans: SPANS,
  fillSeconds: Number(fillSeconds.toFixed(1)),
  sessionApi: await timed(`/api/sessions/sess-${newest}`, auth),
  sessionPage: await timed(`/sessions/sess-${newest}`, { cookie }),
  activityApi: await timed(`/api/agents/agent-7/activity?since=1h`, auth),
  sessionsList: await timed(`/api/sessions?agent=agent-7&since=24h&limit=50`, auth),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
await server.close();
await client.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
