import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { generateToken, sha256Hex } from "@vigil/config";
import { findAlerts, findSession } from "@vigil/store";
import type { Alert, StoredSpan } from "@vigil/store";
import { FakeModelServer } from "./fake-model-server";
import { startVigil } from "./vigil-harness";
import type { Harness } from "./vigil-harness";
import { until } from "./wait";

/** One conformance run: a fake model, a running Vigil, and the agent's OTel setup exporting into it. */
export interface Conformance {
  model: FakeModelServer;
  vigil: Harness;
  provider: BasicTracerProvider;
  /** The agent's logger provider (for instrumentations that send content as log records), exporting to /v1/logs. */
  logs: LoggerProvider;
  /** The stored spans of a session, once at least `count` are there. */
  stored(sessionId: string, count: number): Promise<StoredSpan[]>;
  /** The first alert of a detector in a session, once raised. */
  alertOf(detector: string, sessionId: string): Promise<Alert>;
  stop(): Promise<void>;
}

/**
 * Starts what every conformance test needs: a fake OpenAI-compatible model on 127.0.0.1,
 * a Vigil with the agent `support-bot` (its config lines after `agentLines`, top-level
 * settings in `extraYaml`), and, as a
 * Node application's OTel setup would register them, a tracer provider with the default
 * batch processor and the real OTLP exporter (a run's spans reach Vigil together,
 * children before their parents) and an AsyncLocalStorage context manager (spans
 * started inside a tool nest under it).
 */
export async function startConformance(agentLines = "", extraYaml?: string): Promise<Conformance> {
  const token = generateToken();
  const model = new FakeModelServer();
  await model.start();
  const vigil = await startVigil([], {
    agentsYaml: `agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n${agentLines}`,
    env: { VIGIL_DETECT_INTERVAL_SECONDS: "1" },
    ...(extraYaml === undefined ? {} : { extraYaml }),
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "support-bot" }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: vigil.ingestUrl, headers: { authorization: `Bearer ${token}` } }),
      ),
    ],
  });
  const logs = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": "support-bot" }),
    processors: [
      new BatchLogRecordProcessor(
        new OTLPLogExporter({
          url: vigil.ingestUrl.replace("/v1/traces", "/v1/logs"),
          headers: { authorization: `Bearer ${token}` },
        }),
      ),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    model,
    vigil,
    provider,
    logs,
    stored: (sessionId, count) =>
      until(
        `the spans of ${sessionId}`,
        async () => {
          const spans = await findSession(vigil.vigil.client, sessionId);
          return spans.length >= count ? spans : undefined;
        },
        20_000,
      ),
    alertOf: (detector, sessionId) =>
      until(
        `${detector} in ${sessionId}`,
        async () =>
          (await findAlerts(vigil.vigil.client, { agentId: "support-bot", limit: 100 })).find(
            (a) => a.detector === detector && a.sessionId === sessionId,
          ),
        20_000,
      ),
    stop: async () => {
      await provider.shutdown();
      await logs.shutdown();
      await vigil.stop();
      await model.stop();
    },
  };
}
