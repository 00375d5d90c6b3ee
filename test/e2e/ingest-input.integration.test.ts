import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:http";
import { gzipSync } from "node:zlib";
import { countSpans, findTrace } from "@vigil/store";
import { ExportTraceServiceResponse, RpcStatus, encodeProtobufRequest, richRequest } from "../support/otlp-fixtures";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startVigil();
  token = h.tokens["support-bot"] as string;
});
afterAll(async () => {
  await h.stop();
});

let traceCounter = 0;
/** A fresh trace id per call, so tests never see each other's spans. */
function nextTraceId(): string {
  traceCounter++;
  return `${traceCounter.toString(16).padStart(8, "0")}${"ab".repeat(12)}`;
}

async function post(body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(h.ingestUrl, { method: "POST", body: typeof body === "string" ? body : Buffer.from(body), headers });
}

const PROTO = { "content-type": "application/x-protobuf" };
const JSON_CT = { "content-type": "application/json" };

describe("ingest authentication", () => {
  it("refuses a request with no token (401) and stores nothing", async () => {
    const before = await countSpans(h.vigil.client);
    const res = await post(encodeProtobufRequest(richRequest(nextTraceId())), PROTO);
    expect(res.status).toBe(401);
    expect(RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await res.arrayBuffer())))).toMatchObject({ code: 16 });
    expect(await countSpans(h.vigil.client)).toBe(before);
  });

  it("refuses an unknown token (401) and stores nothing", async () => {
    const traceId = nextTraceId();
    const res = await post(JSON.stringify(richRequest(traceId)), {
      ...JSON_CT,
      authorization: "Bearer vgl_not-a-real-token",
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/token/);
    expect(await findTrace(h.vigil.client, traceId)).toHaveLength(0);
  });
});

describe("ingest content checks", () => {
  it("refuses an unsupported content type with 415", async () => {
    const res = await post("hello", { "content-type": "text/plain", authorization: `Bearer ${token}` });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { message: string }).message).toMatch(/application\/x-protobuf/);
  });

  it("refuses an unsupported content encoding with 415", async () => {
    const res = await post("x", { ...JSON_CT, "content-encoding": "br", authorization: `Bearer ${token}` });
    expect(res.status).toBe(415);
  });

  it("answers a malformed protobuf body with 400 and a google.rpc.Status", async () => {
    const res = await post(Buffer.from([0x0a, 0xff, 0x01, 0x02]), { ...PROTO, authorization: `Bearer ${token}` });
    expect(res.status).toBe(400);
    const status = RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await res.arrayBuffer()))) as {
      code: number;
      message: string;
    };
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/malformed protobuf/);
  });

  it("answers a malformed JSON body with 400", async () => {
    const res = await post('{"resourceSpans": [', { ...JSON_CT, authorization: `Bearer ${token}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: number }).code).toBe(3);
  });

  it("accepts a gzip body", async () => {
    const traceId = nextTraceId();
    const res = await post(gzipSync(encodeProtobufRequest(richRequest(traceId))), {
      ...PROTO,
      "content-encoding": "gzip",
      authorization: `Bearer ${token}`,
    });
    expect(res.status).toBe(200);
    expect(await findTrace(h.vigil.client, traceId)).toHaveLength(1);
  });

  it("answers a corrupt gzip body with 400 and stores nothing", async () => {
    const traceId = nextTraceId();
    const gz = gzipSync(encodeProtobufRequest(richRequest(traceId)));
    gz[gz.length - 6] = (gz[gz.length - 6] as number) ^ 0xff; // break the CRC
    const res = await post(gz, { ...PROTO, "content-encoding": "gzip", authorization: `Bearer ${token}` });
    expect(res.status).toBe(400);
    expect((await res.text()).length).toBeGreaterThan(0);
    expect(await findTrace(h.vigil.client, traceId)).toHaveLength(0);
  });
});

describe("ingest size limit (64 MiB)", () => {
  it("refuses a declared Content-Length over the limit with 413 before reading the body", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(h.ingestUrl, {
        method: "POST",
        headers: { ...PROTO, authorization: `Bearer ${token}`, "content-length": String(65 * 1024 * 1024) },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write(Buffer.alloc(1024)); // far less than declared: the answer must not wait for the rest
    });
    expect(status).toBe(413);
  });

  it("refuses a chunked body that grows past the limit with 413", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(h.ingestUrl, { method: "POST", headers: { ...PROTO, authorization: `Bearer ${token}` } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", () => undefined);
      const chunk = Buffer.alloc(1024 * 1024);
      let sent = 0;
      const pump = (): void => {
        while (sent < 70) {
          sent++;
          if (!req.write(chunk)) {
            req.once("drain", pump);
            return;
          }
        }
        req.end();
      };
      pump();
      setTimeout(() => reject(new Error("no answer to an oversize chunked body")), 20_000).unref();
    });
    expect(status).toBe(413);
  });

  it("refuses a gzip body that inflates past the limit with 413", async () => {
    const bomb = gzipSync(Buffer.alloc(65 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const res = await post(bomb, { ...PROTO, "content-encoding": "gzip", authorization: `Bearer ${token}` });
    expect(res.status).toBe(413);
  });
});

describe("ingest partial success and retries", () => {
  it("stores the valid spans of a request and reports the rejected ones", async () => {
    const good = nextTraceId();
    const req = {
      resourceSpans: [
        ...(richRequest(good).resourceSpans as unknown[]),
        ...(richRequest("00000000000000000000000000000000").resourceSpans as unknown[]),
      ],
    };
    for (const [body, headers] of [
      [JSON.stringify(req), JSON_CT],
      [encodeProtobufRequest(req), PROTO],
    ] as const) {
      const res = await post(body, { ...headers, authorization: `Bearer ${token}` });
      expect(res.status).toBe(200);
      const partial =
        headers === PROTO
          ? (
              ExportTraceServiceResponse.toObject(
                ExportTraceServiceResponse.decode(new Uint8Array(await res.arrayBuffer())),
                {
                  longs: String,
                },
              ) as { partialSuccess: { rejectedSpans: string; errorMessage: string } }
            ).partialSuccess
          : ((await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } }).partialSuccess;
      expect(partial.rejectedSpans).toBe("1");
      expect(partial.errorMessage).toMatch(/trace_id must be 16 bytes/);
    }
    // The same good span arrived twice, in two different bodies: both are stored.
    expect(await findTrace(h.vigil.client, good)).toHaveLength(2);
  });

  it("answers a clean request with an empty ExportTraceServiceResponse", async () => {
    const res = await post(JSON.stringify(richRequest(nextTraceId())), {
      ...JSON_CT,
      authorization: `Bearer ${token}`,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  it("stores a retried request body once, whether retried later or concurrently", async () => {
    const traceId = nextTraceId();
    const body = encodeProtobufRequest(richRequest(traceId));
    const headers = { ...PROTO, authorization: `Bearer ${token}` };
    expect((await post(body, headers)).status).toBe(200);
    expect((await post(body, headers)).status).toBe(200);
    expect(await findTrace(h.vigil.client, traceId)).toHaveLength(1);

    const twin = nextTraceId();
    const twinBody = encodeProtobufRequest(richRequest(twin));
    const answers = await Promise.all([post(twinBody, headers), post(twinBody, headers), post(twinBody, headers)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await findTrace(h.vigil.client, twin)).toHaveLength(1);
    expect(h.vigil.ingest.stats.spansDuplicate).toBeGreaterThanOrEqual(3);
  });

  it("stores the same body from two different agents under each agent", async () => {
    const traceId = nextTraceId();
    const body = encodeProtobufRequest(richRequest(traceId));
    expect((await post(body, { ...PROTO, authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await post(body, { ...PROTO, authorization: `Bearer ${h.tokens["billing-bot"] as string}` })).status).toBe(
      200,
    );
    expect((await findTrace(h.vigil.client, traceId)).map((s) => s.agentId).sort()).toEqual([
      "billing-bot",
      "support-bot",
    ]);
  });

  it("rejects spans outside the accepted time window through partial success", async () => {
    const req = richRequest(nextTraceId(), 0) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
    };
    const span = req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    span.startTimeUnixNano = "1000000000000000000"; // 2001
    span.endTimeUnixNano = "1000000000000000001";
    const res = await post(JSON.stringify(req), { ...JSON_CT, authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { partialSuccess: { errorMessage: string } }).partialSuccess.errorMessage).toMatch(
      /days in the past/,
    );
  });
});
