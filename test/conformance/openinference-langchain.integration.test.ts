import * as CallbackManagerModule from "@langchain/core/callbacks/manager";
import { LangChainInstrumentation } from "@arizeai/openinference-instrumentation-langchain";
import { langchainConformanceSuite } from "../support/langchain-agent";

/**
 * Conformance: LangChain (`@langchain/core` 1.4.0, `@langchain/openai` 1.6.0) under
 * OpenInference's LangChain instrumentation
 * (`@arizeai/openinference-instrumentation-langchain` 4.1.1), pinned, against a fake
 * OpenAI-compatible model on 127.0.0.1, exported by the real OTel SDK and OTLP exporter
 * into a running Vigil. It writes `openinference.span.kind`, `input.value` and
 * `tool.name`, and a run's `session_id` metadata as `session.id`. The suite is in
 * test/support/langchain-agent.ts.
 */
langchainConformanceSuite({
  library: "OpenInference langchain 4.1.1",
  sessions: "ticket-81",
  namesTools: true,
  emits: ["session", "operation", "tool", "input"],
  instrument: (c) => {
    const instrumentation = new LangChainInstrumentation();
    instrumentation.setTracerProvider(c.provider);
    instrumentation.manuallyInstrument(CallbackManagerModule);
  },
});
