import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@vigil/common";
import { generateToken, loadVigilConfig, parseVigilConfig, sha256Hex } from "@vigil/config";
import type { Environment, VigilConfig } from "@vigil/config";

export interface LoadedConfig {
  config: VigilConfig;
  path: string;
  /** Set only on the first start without a config: the demo token and an admin API key, shown once. */
  demoToken?: string;
  adminApiKey?: string;
}

/**
 * Loads the config named by VIGIL_CONFIG. Without one, uses `<data>/vigil.yaml`, and
 * creates it on the first start with a `demo` agent and a fresh token, so that a new
 * user can send spans at once. Only the token's SHA-256 is written to disk.
 */
export function loadOrCreateConfig(env: Environment): LoadedConfig {
  if (env.configPath !== undefined) return { config: loadVigilConfig(env.configPath), path: env.configPath };
  const path = join(env.dataDir, "vigil.yaml");
  if (existsSync(path)) return { config: loadVigilConfig(path), path };
  mkdirSync(env.dataDir, { recursive: true });
  const token = generateToken();
  const apiKey = generateToken("vak_");
  const text = [
    "# Vigil configuration, created on first start. Point VIGIL_CONFIG at your own file in production.",
    "# Tokens and keys are stored only as SHA-256: they were printed once when this file was made.",
    "agents:",
    "  - id: demo",
    "    tokens:",
    `      - sha256: "${sha256Hex(token)}"`,
    "api_keys:",
    "  - name: first-admin",
    "    role: admin",
    `    sha256: "${sha256Hex(apiKey)}"`,
    "",
  ].join("\n");
  writeFileSync(path, text, { mode: 0o600 });
  return { config: parseVigilConfig(text, path), path, demoToken: token, adminApiKey: apiKey };
}

/** What a new user needs to send spans and query: printed to stdout, once, on the first start. */
export function demoBanner(token: string, apiKey: string, ingestPort: number, apiPort: number): string {
  return [
    "",
    "Vigil created a demo agent. Its ingest token is shown only this once:",
    "",
    `  ${token}`,
    "",
    "Point any OpenTelemetry exporter at Vigil with:",
    "",
    `  export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://localhost:${ingestPort}/v1/traces`,
    `  export OTEL_EXPORTER_OTLP_TRACES_HEADERS="Authorization=Bearer ${token}"`,
    "  export OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf",
    "",
    `Console and API: http://localhost:${apiPort}/  (admin API key, also shown only once: ${apiKey})`,
    "",
  ].join("\n");
}

/** Logs where the config came from, without any secret in it. */
export function logConfigSource(logger: Logger, loaded: LoadedConfig): void {
  logger.info("config loaded", { path: loaded.path, agents: loaded.config.agents.length });
}
