/** How an agent reaches Vigil. */
export interface VigilAgentOptions {
  /** The agent's id, as declared in Vigil's config (also its `service.name`). */
  agentId: string;
  /** The agent's ingest token. */
  token: string;
  /** Vigil's ingest base URL (`http://localhost:4318`) or full traces URL (`.../v1/traces`). */
  endpoint: string;
  /** deployment.environment.name: production, staging, ... */
  environment: string;
  /** OTLP encoding; protobuf is smaller and faster. */
  protocol?: "http/protobuf" | "http/json";
  /** Extra resource attributes (service.version, host.name, ...). */
  resourceAttributes?: Record<string, string | number | boolean>;
}

/** Thrown when the SDK is asked to do something unsafe (e.g. record a secret as a credential id). */
export class VigilSdkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VigilSdkError";
  }
}

/** The traces URL for an endpoint given with or without the `/v1/traces` path. */
export function tracesUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, "");
  return trimmed.endsWith("/v1/traces") ? trimmed : `${trimmed}/v1/traces`;
}
