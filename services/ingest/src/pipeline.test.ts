import { afterAll, describe, expect, it } from "vitest";
import { initSqlParser } from "@vigil/facts";
import { SPAN_INSERT_COLUMNS, sealSpanLines } from "@vigil/store";
import { encodeProtobufRequest, richRequest } from "../../../test/support/otlp-fixtures";
import { jsonTraceRequest } from "../../../test/support/otlp-json";
import { ApprovalVerifier } from "./gate";
import { admit } from "./pipeline";
import type { Admission, AdmitInput } from "./pipeline";
import { threadedPipeline } from "./pipeline-runner";

const BATCH = "018f0000-0000-7000-8000-0000000000aa";

function input(body: string | Uint8Array, overrides: Partial<AdmitInput> = {}): AdmitInput {
  return {
    body: typeof body === "string" ? Buffer.from(body) : body,
    signal: "traces",
    encoding: typeof body === "string" ? "json" : "protobuf",
    digest: "d".repeat(32),
    receivedAtMs: Date.now(),
    identity: {
      agentId: "support-bot",
      environment: undefined,
      claims: new Set(["support-bot"]),
      environments: new Set(),
    },
    maxSpanAgeMs: 90 * 86_400_000,
    maxFutureSkewMs: 3_600_000,
    backfillAfterMs: 600_000,
    extract: {},
    verifyApprovals: true,
    handOffSpans: true,
    ...overrides,
  };
}

/** The stored rows of an admission, sealed into a batch, as column → value objects. */
function rowsOf(a: Admission): Array<Record<string, unknown>> {
  if (a.kind !== "admitted" || a.lines === undefined) return [];
  const { body } = sealSpanLines(Buffer.from(a.lines), BATCH);
  return body
    .toString()
    .trimEnd()
    .split("\n")
    .map((line) => {
      const values = JSON.parse(line) as unknown[];
      return Object.fromEntries(SPAN_INSERT_COLUMNS.map((c, i) => [c, values[i]]));
    });
}

const hex = (n: number) => n.toString(16).padStart(32, "0");

describe("the ingest pipeline (admit)", () => {
  it("turns a request into sealed rows under the token's agent, with facts and the batch id", async () => {
    await initSqlParser();
    const a = await admit(
      input(
        jsonTraceRequest([{ traceId: hex(1), attrs: { "db.system": "postgresql", "db.statement": "DROP TABLE t" } }]),
      ),
    );
    expect(a).toMatchObject({ kind: "admitted", received: 1, rejected: 0, rows: 1 });
    const [row] = rowsOf(a);
    expect(row).toMatchObject({ batch_id: BATCH, agent_id: "support-bot", db_operation: "DROP", destructive: true });
    expect(a.kind === "admitted" && a.spans?.[0]?.facts.dbTables).toEqual(["t"]);
  });

  it("refuses a body that is not a request, with a status, and nothing else", async () => {
    expect(await admit(input("{not json"))).toMatchObject({ kind: "refused", status: 400 });
    expect(await admit(input(new Uint8Array([0xff, 0xff, 0xff])))).toMatchObject({ kind: "refused", status: 400 });
  });

  it("rejects spans outside the time window and of an environment the token may not write, keeping the rest", async () => {
    const old = (BigInt(Date.now()) - 100n * 86_400_000n) * 1_000_000n;
    const a = await admit(
      input(
        jsonTraceRequest([
          { traceId: hex(2), attrs: {} },
          { traceId: hex(3), startNs: old, attrs: {} },
          { traceId: hex(4), attrs: { "deployment.environment": "prod-2" } },
        ]),
        { identity: { ...input("").identity, environment: "prod" } },
      ),
    );
    expect(a).toMatchObject({ kind: "admitted", received: 3, rejected: 2, rows: 1 });
    expect(a.kind === "admitted" && a.rejectionReasons.join("; ")).toMatch(/days in the past.*bound to "prod"/);
    expect(rowsOf(a)[0]).toMatchObject({ trace_id: hex(2), environment: "prod" });
  });

  it("redacts a credential before it is encoded, marks impersonation and backfill", async () => {
    const aws = "AKIA" + "QWERTYUIOPASDFGH";
    const backdated = (BigInt(Date.now()) - 86_400_000n) * 1_000_000n;
    const a = await admit(
      input(
        jsonTraceRequest([
          { traceId: hex(5), startNs: backdated, attrs: { "gen_ai.agent.id": "billing-bot", note: `key ${aws}` } },
        ]),
      ),
    );
    expect(a.kind === "admitted" && a.lines?.toString()).not.toContain(aws);
    expect(rowsOf(a)[0]).toMatchObject({ impersonated_agent: "billing-bot", backfill: true });
    expect(a).toMatchObject({ redacted: 1 });
  });

  it("hands a request carrying an approval token back when it has no verifier, and checks it with one", async () => {
    const body = jsonTraceRequest([{ traceId: hex(6), attrs: { "vigil.approval.token": "a.b.c" } }]);
    expect(await admit(input(body))).toEqual({ kind: "needs-approvals" });
    const verifier = new ApprovalVerifier(() => undefined);
    const a = await admit(input(body), verifier);
    expect(rowsOf(a)[0]).toMatchObject({ approval_status: "unverified:no approval key is configured" });
    expect(a.kind === "admitted" && a.lines?.toString()).not.toContain("a.b.c");
  });
});

describe("pipeline threads", () => {
  const threads = threadedPipeline(1, new ApprovalVerifier(() => undefined));
  afterAll(() => threads.close());

  it("give the same rows as the main thread, and admit token-carrying requests on the main thread", async () => {
    await initSqlParser();
    const body = encodeProtobufRequest(richRequest());
    const same = input(body);
    const [inThread, inMain] = [await threads.admit(same), await admit(same)];
    expect(inThread.kind).toBe("admitted");
    expect(rowsOf(inThread)).toEqual(rowsOf(inMain));
    expect(rowsOf(inThread).length).toBeGreaterThan(0);

    const withToken = input(jsonTraceRequest([{ traceId: hex(7), attrs: { "vigil.approval.token": "a.b.c" } }]));
    expect(rowsOf(await threads.admit(withToken))[0]).toMatchObject({
      approval_status: "unverified:no approval key is configured",
    });
    expect(await threads.admit(input("{not json"))).toMatchObject({ kind: "refused", status: 400 });
  });
});
