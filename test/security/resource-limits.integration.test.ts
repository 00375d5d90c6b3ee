import { request } from "node:http";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import protobuf from "protobufjs/minimal.js";
import { jsonTraceRequest } from "../support/otlp-json";
import { until } from "../support/wait";
import { apiCall, sendRichSpan, startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

/**
 * Memory an unauthenticated or agent-token client can make the process hold, through
 * the real all-in-one. Figures are printed; bounds are loose, because the process also
 * holds the embedded engine, but each attack used to cost gigabytes.
 */
let h: Harness;

beforeAll(async () => {
  h = await startVigil(["bulk-bot"]);
});

afterAll(async () => {
  await h?.stop();
});

const MiB = 1024 * 1024;
const rssMiB = () => process.memoryUsage().rss / MiB;

/** Streams `total` bytes in 1 MiB chunks without a Content-Length; resolves with the status. */
function streamBody(url: string, total: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      // The server may close the socket once it has answered 413.
      if (err.code === "EPIPE" || err.code === "ECONNRESET") resolve(-1);
      else reject(err);
    });
    const chunk = Buffer.alloc(MiB, 0x61);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** An ExportTraceServiceRequest of one span with `n` attributes {key: "a", value: {}}, written field by field. */
function spanWithAttributes(n: number): Buffer {
  const LEN = 2;
  const field = (no: number, wire: number) => (no << 3) | wire;
  const w = protobuf.Writer.create();
  w.uint32(field(1, LEN)).fork(); // resource_spans
  w.uint32(field(2, LEN)).fork(); // scope_spans
  w.uint32(field(2, LEN)).fork(); // spans
  w.uint32(field(1, LEN)).bytes(Buffer.alloc(16, 0x7b)); // trace_id
  w.uint32(field(2, LEN)).bytes(Buffer.alloc(8, 0x7c)); // span_id
  w.uint32(field(5, LEN)).string("swarm");
  const now = Date.now() * 1e6;
  w.uint32(field(7, 1)).fixed64(now); // start_time_unix_nano
  w.uint32(field(8, 1)).fixed64(now + 1000);
  const attribute = Buffer.from([0x0a, 0x01, 0x61, 0x12, 0x00]); // key "a", value {}
  for (let i = 0; i < n; i++) w.uint32(field(9, LEN)).bytes(attribute);
  w.ldelim().ldelim().ldelim();
  return Buffer.from(w.finish());
}

describe("bounded memory for oversized and high-ratio bodies", () => {
  it("refuses a 400 MB sign-in body with 413 after reading a few KiB of it, and sign-in still works", async () => {
    const before = rssMiB();
    const status = await streamBody(`${h.apiUrl}/login`, 400 * MiB, {
      "content-type": "application/x-www-form-urlencoded",
      origin: h.apiUrl,
    });
    const grew = rssMiB() - before;
    console.log(`400 MB POST /login: status ${status}, RSS grew ${grew.toFixed(0)} MiB`);
    expect([413, -1]).toContain(status);
    expect(grew).toBeLessThan(100);
    const honest = await fetch(`${h.apiUrl}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: h.apiUrl },
      body: new URLSearchParams({ key: h.apiKeys.reader, next: "/alerts" }),
    });
    expect(honest.status).toBe(303);
    expect(honest.headers.get("location")).toBe("/alerts");
  });

  it("refuses an API body over 1 MiB with a JSON 413, and keeps answering the honest request", async () => {
    const big = await fetch(`${h.apiUrl}/api/sql`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.apiKeys.reader}`, "content-type": "application/json" },
      body: JSON.stringify({ sql: `SELECT 1 -- ${"x".repeat(2 * MiB)}` }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: "payload_too_large" });
    const honest = await apiCall(h, "/api/sql", h.apiKeys.reader, {
      method: "POST",
      body: { sql: "SELECT count() AS n FROM spans" },
    });
    expect(honest.status).toBe(200);
  });

  it("refuses a high-ratio gzip body past the decompressed limit (413), and one that decodes to too many values (413)", async () => {
    const post = async (body: Buffer, contentType: string) => {
      const res = await fetch(h.ingestUrl, {
        method: "POST",
        body,
        headers: {
          "content-type": contentType,
          "content-encoding": "gzip",
          authorization: `Bearer ${h.tokens["bulk-bot"]}`,
        },
      });
      return { status: res.status, text: await res.text() };
    };
    // 100 MiB of one byte gzips to about 100 KiB: past the 64 MiB decompressed limit.
    const bomb = gzipSync(Buffer.alloc(100 * MiB, 0x20));
    // 1.2 million empty attributes: 8 MiB of protobuf, 50 KiB gzipped, gigabytes decoded.
    const swarm = gzipSync(spanWithAttributes(1_200_000));
    const before = rssMiB();
    const bombed = await post(bomb, "application/json");
    const swarmed = await post(swarm, "application/x-protobuf");
    const grew = rssMiB() - before;
    console.log(
      `gzip: ${bomb.length} B inflating past 64 MiB → ${bombed.status}; ${swarm.length} B of 1.2M attributes → ${swarmed.status}; RSS grew ${grew.toFixed(0)} MiB`,
    );
    expect(bombed.status).toBe(413);
    expect(swarmed.status).toBe(413);
    expect(swarmed.text).toContain("more than 1000000 spans, events, links and attribute values");
    expect(grew).toBeLessThan(600);
    expect(await sendRichSpan(h, "bulk-bot")).toBe(200);
  });

  it("bounds the body bytes all clients hold at once: the request past the budget gets 429, an honest one still 200", async () => {
    const valid = jsonTraceRequest([{ traceId: "8".repeat(32), attrs: {} }]);
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    const answers: number[] = [];
    // Four uploads of 45 MiB each, held open before their last byte: 180 MiB > 160 MiB.
    const uploads = [0, 1, 2, 3].map(
      (i) =>
        new Promise<number>((resolve) => {
          const req = request(h.ingestUrl, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${h.tokens["bulk-bot"]}` },
          });
          req.on("response", (res) => {
            res.resume();
            answers.push(res.statusCode ?? 0);
            resolve(res.statusCode ?? 0);
          });
          req.on("error", () => resolve(-1));
          req.write(i === 0 ? valid.replace("8888", "8881") : valid.replace("8888", `888${i + 1}`));
          const pad = Buffer.alloc(MiB, 0x20);
          let sent = 0;
          const pump = (): void => {
            while (sent < 45) {
              sent++;
              if (!req.write(pad)) {
                req.once("drain", pump);
                return;
              }
            }
            void released.then(() => req.end());
          };
          pump();
        }),
    );
    const before = rssMiB();
    await until("one upload refused", () => answers.includes(429));
    expect(await sendRichSpan(h, "bulk-bot")).toBe(200);
    const grew = rssMiB() - before;
    release();
    const statuses = await Promise.all(uploads);
    console.log(`4 × 45 MiB uploads held at once → ${statuses.join(",")}; RSS grew ${grew.toFixed(0)} MiB while held`);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
  });
});
