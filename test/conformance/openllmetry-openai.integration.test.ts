import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OpenAIInstrumentation } from "@traceloop/instrumentation-openai";
import OpenAI from "openai";
import { generateToken, sha256Hex } from "@vigil/config";
import { findSession } from "@vigil/store";
import type { StoredSpan } from "@vigil/store";
import { FakeModelServer } from "../support/fake-model-server";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";
import { until } from "../support/wait";

/**
 * Conformance: OpenLLMetry's OpenAI instrumentation (`@traceloop/instrumentation-openai`
 * 0.27.0 over `openai` 6.49.0, pinned), against a fake OpenAI-compatible model on
 * 127.0.0.1, exported by the real OTel SDK and OTLP exporter into a running Vigil. This
 * version writes the GenAI conventions (`gen_ai.operation.name`, `gen_ai.input.messages`),
 * read with no dialect of its own; the session is the application's, on the agent's span
 * around the call, and reaches the model call exported with it.
 */
const token = generateToken();
const model = new FakeModelServer();
let vigil: Harness;
let provider: BasicTracerProvider;
let openai: OpenAI;

beforeAll(async () => {
  await model.start();
  vigil = await startVigil([], {
    agentsYaml: `agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n`,
  });
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "support-bot" }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: vigil.ingestUrl, headers: { authorization: `Bearer ${token}` } }),
      ),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const instrumentation = new OpenAIInstrumentation();
  instrumentation.setTracerProvider(provider);
  instrumentation.manuallyInstrument(OpenAI);
  openai = new OpenAI({ baseURL: model.baseUrl, apiKey: "test-key" });
}, 120_000);

afterAll(async () => {
  await provider?.shutdown();
  await vigil?.stop();
  await model.stop();
});

describe("OpenLLMetry (OpenAI instrumentation)", () => {
  it("reads the model call as a chat with its input, in the session of the agent's span around it", async () => {
    model.script([{ text: "Order 7 is open." }]);
    await trace.getTracer("support-bot").startActiveSpan("handle ticket", async (span) => {
      span.setAttribute("session.id", "ticket-7001");
      await openai.chat.completions.create({
        model: "fake-model",
        messages: [{ role: "user", content: "Where is order 7?" }],
      });
      span.end();
    });
    await provider.forceFlush();
    const spans = await until(
      "the session's spans",
      async () => {
        const found = await findSession(vigil.vigil.client, "ticket-7001");
        return found.length >= 2 ? found : undefined;
      },
      20_000,
    );
    const chat = spans.find((s) => s.facts.operation === "chat") as StoredSpan;
    expect(chat.kind).toBe(3);
    expect(chat.facts.input).toContain("Where is order 7?");
    expect(chat.facts.inputSource).toBe("gen_ai.input.messages");
  });
});
