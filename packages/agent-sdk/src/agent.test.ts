import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { VigilAgent } from "./agent";
import { VigilSdkError, tracesUrl } from "./options";
import { VigilContextProcessor } from "./session-processor";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new VigilContextProcessor(), new SimpleSpanProcessor(exporter)],
});
const flush = (): Promise<void> => provider.forceFlush();
const support = new VigilAgent("support-bot", provider.getTracer("t"), flush, flush);
const billing = new VigilAgent("billing-bot", provider.getTracer("t"), flush, flush);

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterEach(() => exporter.reset());

describe("agent SDK", () => {
  it("refuses a credential id that looks like a secret, and records nothing for it", async () => {
    const secret = `sk_live_${"4eC39HqLyjWDarjtT1zdp7dc".repeat(1)}`;
    await expect(support.withCredential(secret, async () => 1)).rejects.toThrow(VigilSdkError);
    await expect(
      support.dbQuery(
        { system: "postgresql", statement: "SELECT 1", credentialId: "AKIAZ7QWERTYZ345ABCD" },
        async () => 1,
      ),
    ).rejects.toThrow(/looks like a secret/);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it("puts the session and credential on every span inside their scopes", async () => {
    await support.session("sess-1", async () => {
      await support.withCredential("cred-pg", async () => {
        provider.getTracer("other-instrumentation").startSpan("pg.query").end();
      });
      await support.toolCall("lookup", { id: 1 }, async () => undefined);
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.attributes["session.id"])).toEqual(["sess-1", "sess-1", "sess-1"]);
    expect(spans.find((s) => s.name === "pg.query")?.attributes["vigil.credential.id"]).toBe("cred-pg");
    expect(spans.find((s) => s.name === "execute_tool lookup")?.attributes["vigil.credential.id"]).toBeUndefined();
  });

  it("carries the trace and the caller's identity to the agent it calls", async () => {
    let headers: Record<string, string> = {};
    await support.session("sess-a", () =>
      support.callAgent({ agentId: "billing-bot", url: "http://billing.internal/x" }, async (h) => {
        headers = h;
      }),
    );
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(headers.baggage).toContain("vigil.caller.agent=support-bot");
    await billing.acceptCall(headers, "sess-b", async () => undefined);
    const server = exporter.getFinishedSpans().find((s) => s.attributes["vigil.caller.agent"] !== undefined);
    const client = exporter.getFinishedSpans().find((s) => s.name === "invoke_agent billing-bot");
    expect(server?.attributes["vigil.caller.agent"]).toBe("support-bot");
    expect(server?.spanContext().traceId).toBe(client?.spanContext().traceId);
    expect(server?.parentSpanContext?.spanId).toBe(client?.spanContext().spanId);
  });

  it("records a failing step as an error and rethrows", async () => {
    await expect(support.toolCall("explode", {}, async () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toMatchObject({ code: 2, message: "boom" });
  });

  it("never puts a URL's password on a span", async () => {
    await support.httpCall({ method: "get", url: "https://user:hunter2@api.acme.dev/x" }, async () => undefined);
    expect(String(exporter.getFinishedSpans()[0]?.attributes["url.full"])).toBe("https://api.acme.dev/x");
  });

  it("accepts an endpoint with or without the traces path", () => {
    expect(tracesUrl("http://localhost:4318")).toBe("http://localhost:4318/v1/traces");
    expect(tracesUrl("http://localhost:4318/v1/traces/")).toBe("http://localhost:4318/v1/traces");
  });
});
