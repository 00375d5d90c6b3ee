import { trace } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { VigilAgent } from "./agent";
import { GateClient } from "./gate";
import { tracesUrl } from "./options";
import type { VigilAgentOptions } from "./options";
import { VigilContextProcessor } from "./session-processor";

const TRACER_NAME = "@vigil/agent-sdk";
const TRACER_VERSION = "0.1.0";

/** The OTLP exporter that sends to Vigil with the agent's token. */
export function vigilExporter(options: Pick<VigilAgentOptions, "token" | "endpoint" | "protocol">): SpanExporter {
  const config = { url: tracesUrl(options.endpoint), headers: { Authorization: `Bearer ${options.token}` } };
  return options.protocol === "http/json" ? new JsonExporter(config) : new ProtoExporter(config);
}

/**
 * For an application that already runs the OpenTelemetry SDK (with its own
 * auto-instrumentations): the processors to add to it so its spans reach Vigil and
 * carry the session and credential of the Vigil scope they run in.
 */
export function vigilSpanProcessors(
  options: Pick<VigilAgentOptions, "token" | "endpoint" | "protocol">,
): SpanProcessor[] {
  return [new VigilContextProcessor(), new BatchSpanProcessor(vigilExporter(options))];
}

/**
 * Starts the OpenTelemetry Node SDK for an agent, exporting to Vigil, and returns the
 * helpers. One call per process.
 *
 * @example
 * const agent = startVigilAgent({ agentId: "support-bot", token: process.env.VIGIL_TOKEN!,
 *   endpoint: "http://localhost:4318", environment: "production" });
 */
export function startVigilAgent(options: VigilAgentOptions): VigilAgent {
  const processors = vigilSpanProcessors(options);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      "service.name": options.agentId,
      "deployment.environment.name": options.environment,
      ...options.resourceAttributes,
    }),
    spanProcessors: processors,
    instrumentations: [],
  });
  sdk.start();
  return new VigilAgent(
    options.agentId,
    trace.getTracer(TRACER_NAME, TRACER_VERSION),
    () => sdk.shutdown(),
    async () => {
      await Promise.all(processors.map((p) => p.forceFlush()));
    },
    new GateClient(options.endpoint, options.token),
  );
}

/**
 * The helpers on top of whatever tracer provider the application registered (use with
 * `vigilSpanProcessors`).
 */
export function vigilAgentHelpers(agentId: string): VigilAgent {
  const provider = trace.getTracerProvider() as { forceFlush?: () => Promise<void>; shutdown?: () => Promise<void> };
  return new VigilAgent(
    agentId,
    trace.getTracer(TRACER_NAME, TRACER_VERSION),
    () => provider.shutdown?.() ?? Promise.resolve(),
    () => provider.forceFlush?.() ?? Promise.resolve(),
  );
}
