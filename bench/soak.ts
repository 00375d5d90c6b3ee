/**
 * `npm run soak [minutes] [spans/s]`: sustained load on the all-in-one (embedded, with
 * detection) for a long time, one minute at a time, to see drift: resident memory,
 * acknowledge latency and the detection backlog per minute. The rate defaults to half
 * of a 10 s maximum measured first. Prints a table and writes bench/results/soak-*.json.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vigil/common";
import { generateToken, parseVigilConfig, readEnvironment, sha256Hex } from "@vigil/config";
import { startAllInOne } from "@vigil/service-vigil";

const minutes = Number(process.argv[2] ?? 30);
const rateArg = process.argv[3];
const SPANS_PER_REQUEST = 512;
const CONCURRENCY = 16;

interface LoadResult {
  spansPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
}

function load(url: string, token: string, seconds: number, rate?: number): Promise<LoadResult> {
  const args = ["bench/load-generator.ts", url, token, String(seconds), String(CONCURRENCY), String(SPANS_PER_REQUEST)];
  if (rate !== undefined) args.push(String(Math.round(rate)));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load exited ${code}`)),
    );
  });
}

const dataDir = mkdtempSync(join(tmpdir(), "vigil-soak-"));
const token = generateToken();
const env = readEnvironment({
  VIGIL_DATA_DIR: dataDir,
  VIGIL_INGEST_PORT: "0",
  VIGIL_API_PORT: "0",
  VIGIL_HOST: "127.0.0.1",
});
const vigil = await startAllInOne(
  env,
  parseVigilConfig(`agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n`),
  createLogger("warn"),
);
const url = `http://127.0.0.1:${vigil.ingestPort}/v1/traces`;
const rate = rateArg === undefined ? (await load(url, token, 10)).spansPerSecond / 2 : Number(rateArg);
process.stderr.write(`soak: ${minutes} min at ${Math.round(rate)} spans/s\n`);

const backlog = async (): Promise<number> => {
  const rs = await vigil.client.query({
    query: "SELECT toString((SELECT max(seq) FROM ledger) - (SELECT max(seq) FROM detection_cursor)) AS n",
    format: "JSONEachRow",
  });
  return Number((await rs.json<{ n: string }>())[0]?.n ?? 0);
};
const rows: Array<{
  minute: number;
  spansPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  rssMiB: number;
  backlog: number;
  errors: number;
  /** Answers other than 200, by status (a load generator's network error shows as its code). */
  nonOk: Record<string, number>;
}> = [];
for (let m = 1; m <= minutes; m++) {
  const r = await load(url, token, 60, rate);
  const nonOk = Object.fromEntries(Object.entries(r.statuses).filter(([k]) => k !== "200"));
  const errors = Object.values(nonOk).reduce((a, n) => a + n, 0);
  rows.push({
    minute: m,
    spansPerSecond: Math.round(r.spansPerSecond),
    p50Ms: Math.round(r.p50Ms),
    p99Ms: Math.round(r.p99Ms),
    rssMiB: Math.round(process.memoryUsage().rss / 1024 / 1024),
    backlog: await backlog(),
    errors,
    nonOk,
  });
  const last = rows.at(-1) as (typeof rows)[number];
  process.stdout.write(
    `minute ${String(last.minute).padStart(3)}  ${last.spansPerSecond} spans/s  ack p50 ${last.p50Ms} ms  p99 ${last.p99Ms} ms  rss ${last.rssMiB} MiB  detection backlog ${last.backlog}  non-200 ${last.errors}${last.errors > 0 ? ` ${JSON.stringify(last.nonOk)}` : ""}\n`,
  );
}
const first = rows[0];
const lastRow = rows.at(-1);
if (first !== undefined && lastRow !== undefined)
  process.stdout.write(
    `drift over ${minutes} min: rss ${lastRow.rssMiB - first.rssMiB >= 0 ? "+" : ""}${lastRow.rssMiB - first.rssMiB} MiB, ` +
      `p99 ${first.p99Ms} → ${lastRow.p99Ms} ms, backlog ${first.backlog} → ${lastRow.backlog}\n`,
  );
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/soak-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
writeFileSync(file, `${JSON.stringify({ minutes, rate, rows }, null, 2)}\n`);
await vigil.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
