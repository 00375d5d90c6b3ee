import * as CallbackManagerModule from "@langchain/core/callbacks/manager";
import { LangChainInstrumentation } from "@traceloop/instrumentation-langchain";
import { langchainConformanceSuite } from "../support/langchain-agent";

/**
 * Conformance: LangChain (`@langchain/core` 1.4.0, `@langchain/openai` 1.6.0) under
 * OpenLLMetry's LangChain instrumentation (`@traceloop/instrumentation-langchain`
 * 0.27.0), pinned, against a fake OpenAI-compatible model on 127.0.0.1, exported by the
 * real OTel SDK and OTLP exporter into a running Vigil. It writes the GenAI keys on model
 * calls and `traceloop.entity.*` on tools, named by the tool's class rather than its name
 * (so the tool is not emitted, and an allow-list fails closed), and takes its spans'
 * parent (and so their session) from the application's span. The suite is in
 * test/support/langchain-agent.ts.
 */
langchainConformanceSuite({
  library: "OpenLLMetry langchain 0.27.0",
  sessions: "ticket-82",
  namesTools: false,
  emits: ["operation", "input"],
  instrument: (c) => {
    const instrumentation = new LangChainInstrumentation();
    instrumentation.setTracerProvider(c.provider);
    instrumentation.manuallyInstrument({ callbackManagerModule: CallbackManagerModule });
  },
});
