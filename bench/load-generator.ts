/**
 * Sends OTLP protobuf requests to Vigil from its own process, as a fleet of agents
 * would, and reports throughput and acknowledge latency as one JSON line on stdout.
 *
 * Usage: tsx bench/load-generator.ts <url> <token> <seconds> <concurrency> <spansPerRequest> [targetSpansPerSecond]
 */
import { Agent, request } from "node:http";
import { gzipSync } from "node:zlib";
import {
  TEMPLATE_SESSION_MARK,
  TEMPLATE_TRACE_PREFIX,
  sessionMarkOffsets,
  timeOffsets,
  templateRequest,
  templateRequestJson,
  traceIdOffsets,
} from "./workload";

const [url, token, secondsArg, concurrencyArg, spansArg, rateArg] = process.argv.slice(2);
if (url === undefined || token === undefined)
  throw new Error("usage: load-generator <url> <token> <seconds> <concurrency> <spans> [rate]");
const seconds = Number(secondsArg ?? 10);
const concurrency = Number(concurrencyArg ?? 8);
const spansPerRequest = Number(spansArg ?? 512);
const targetRate = rateArg === undefined ? Infinity : Number(rateArg);

// LOAD_ENCODING=json sends OTLP/JSON instead of protobuf; LOAD_GZIP=1 compresses each body.
const json = process.env.LOAD_ENCODING === "json";
const gzip = process.env.LOAD_GZIP === "1";
const startNs = BigInt(Date.now() - 60_000) * 1_000_000n;
const template = Buffer.from(templateRequest(spansPerRequest, startNs));
const jsonTemplate = templateRequestJson(spansPerRequest, startNs);
const offsets = traceIdOffsets(template);
const sessionOffsets = sessionMarkOffsets(template);
const times = timeOffsets(template, spansPerRequest, startNs);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);

let counter = Math.floor(Math.random() * 2 ** 31);
/** A copy of the template with unique trace and session ids, so no two requests share a body. */
function nextBody(): Buffer {
  counter++;
  const hex = (counter >>> 0).toString(16).padStart(8, "0");
  let body: Buffer;
  if (json) {
    body = Buffer.from(
      jsonTemplate.replaceAll(TEMPLATE_TRACE_PREFIX, `${hex}cafebeef`).replaceAll(TEMPLATE_SESSION_MARK, hex),
    );
  } else {
    body = Buffer.from(template);
    for (const at of offsets) body.writeUInt32BE(counter >>> 0, at);
    for (const at of sessionOffsets) body.write(hex, at, "ascii");
    // Span times follow the clock (a second behind it), as an agent's do.
    const nowNs = BigInt(Date.now() - 1000) * 1_000_000n;
    for (const { at, deltaNs } of times) body.writeBigUInt64LE(nowNs + deltaNs, at);
  }
  return gzip ? gzipSync(body, { level: 1 }) : body;
}

function send(body: Buffer): Promise<number | string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        agent,
        headers: {
          "content-type": json ? "application/json" : "application/x-protobuf",
          ...(gzip ? { "content-encoding": "gzip" } : {}),
          authorization: `Bearer ${token}`,
          "content-length": body.length,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const latencies: number[] = [];
const statuses: Record<string, number> = {};
let spansAcked = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
// Pacing for a target rate: each worker waits for its next slot.
const interval = Number.isFinite(targetRate) ? (spansPerRequest / targetRate) * 1000 * concurrency : 0;

async function worker(index: number): Promise<void> {
  let next = started + (interval * index) / concurrency;
  while (performance.now() < deadline) {
    if (interval > 0) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      next += interval;
    }
    const body = nextBody();
    const t0 = performance.now();
    // A connection error is counted, not fatal: real exporters retry, and the table shows it.
    const status = await send(body).catch((err: NodeJS.ErrnoException) => err.code ?? "error");
    latencies.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 200) spansAcked += spansPerRequest;
  }
}

await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({
    seconds: elapsed,
    requests: latencies.length,
    spansAcked,
    spansPerSecond: spansAcked / elapsed,
    p50Ms: pct(50),
    p99Ms: pct(99),
    statuses,
    bodyBytes: template.length,
  })}\n`,
);
agent.destroy();
