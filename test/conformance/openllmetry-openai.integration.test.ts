import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trace } from "@opentelemetry/api";
import { OpenAIInstrumentation } from "@traceloop/instrumentation-openai";
import OpenAI from "openai";
import type { StoredSpan } from "@vigil/store";
import { startConformance } from "../support/conformance";
import type { Conformance } from "../support/conformance";
import { recordConformanceRow } from "../support/conformance-table";

/**
 * Conformance: OpenLLMetry's OpenAI instrumentation (`@traceloop/instrumentation-openai`
 * 0.27.0 over `openai` 6.49.0, pinned), against a fake OpenAI-compatible model on
 * 127.0.0.1, exported by the real OTel SDK and OTLP exporter into a running Vigil. This
 * version writes the GenAI conventions (`gen_ai.operation.name`, `gen_ai.input.messages`),
 * read with no dialect of its own; the session is the application's, on the agent's span
 * around the call, and reaches the model call exported with it.
 */
let conformance: Conformance;
let openai: OpenAI;

beforeAll(async () => {
  conformance = await startConformance();
  const instrumentation = new OpenAIInstrumentation();
  instrumentation.setTracerProvider(conformance.provider);
  instrumentation.manuallyInstrument(OpenAI);
  openai = new OpenAI({ baseURL: conformance.model.baseUrl, apiKey: "test-key" });
}, 120_000);

afterAll(async () => {
  await conformance?.stop();
});

describe("OpenLLMetry (OpenAI instrumentation)", () => {
  it("reads the model call as a chat with its input, in the session of the agent's span around it", async () => {
    conformance.model.script([{ text: "Order 7 is open." }]);
    await trace.getTracer("support-bot").startActiveSpan("handle ticket", async (span) => {
      span.setAttribute("session.id", "ticket-7001");
      await openai.chat.completions.create({
        model: "fake-model",
        messages: [{ role: "user", content: "Where is order 7?" }],
      });
      span.end();
    });
    await conformance.provider.forceFlush();
    const spans = await conformance.stored("ticket-7001", 2);
    const chat = spans.find((s) => s.facts.operation === "chat") as StoredSpan;
    expect(chat.kind).toBe(3);
    expect(chat.facts.input).toContain("Where is order 7?");
    expect(chat.facts.inputSource).toBe("gen_ai.input.messages");
  });

  it("reads every fact the library emits (the conformance table's row)", async () => {
    const row = await recordConformanceRow(conformance, "OpenLLMetry openai 0.27.0", ["operation", "input"]);
    expect(row.missed).toEqual([]);
  });
});
