import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@vigil/common";
import { generateToken, loadVigilConfig, parseVigilConfig, sha256Hex } from "@vigil/config";
import type { Environment, VigilConfig } from "@vigil/config";

export interface LoadedConfig {
  config: VigilConfig;
  path: string;
  /**
   * Where the first start wrote the demo token and an admin API key (0600), while that
   * file is still there; its path is printed once the listeners are up.
   */
  credentialsFile?: string;
}

/** The file name of the first start's credentials, under the data directory. */
export const FIRST_START_CREDENTIALS = "first-start-credentials.txt";

/**
 * The data directory, created or tightened to 0700: it holds the store, the config and
 * (embedded) the ledger's signing key, none of which anyone else on the machine may read.
 */
export function ensurePrivateDataDir(dataDir: string, logger?: Logger): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o777;
  if (mode !== 0o700) {
    chmodSync(dataDir, 0o700);
    logger?.warn("the data directory was readable by others; it is now 0700", {
      dataDir,
      was: mode.toString(8),
    });
  }
}

/**
 * Loads the config named by VIGIL_CONFIG. Without one, uses `<data>/vigil.yaml`, and
 * creates it on the first start with a `demo` agent and a fresh token, so that a new
 * user can send spans at once. Only the token's SHA-256 is written to disk.
 */
export function loadOrCreateConfig(env: Environment): LoadedConfig {
  if (env.configPath !== undefined) return { config: loadVigilConfig(env.configPath), path: env.configPath };
  const path = join(env.dataDir, "vigil.yaml");
  const credentialsFile = join(env.dataDir, FIRST_START_CREDENTIALS);
  if (existsSync(path))
    return { config: loadVigilConfig(path), path, ...(existsSync(credentialsFile) ? { credentialsFile } : {}) };
  ensurePrivateDataDir(env.dataDir);
  const token = generateToken();
  const apiKey = generateToken("vak_");
  const text = [
    "# Vigil configuration, created on first start. Point VIGIL_CONFIG at your own file in production.",
    "# Tokens and keys are stored only as SHA-256: they were printed once when this file was made.",
    "agents:",
    "  - id: demo",
    "    tokens:",
    `      - sha256: "${sha256Hex(token)}"`,
    "    # Refunds move money: the confirmation gate asks a person first (vigil approve <id>).",
    "    policy: {destructive_tools: [refund_order]}",
    "api_keys:",
    "  - name: first-admin",
    "    role: admin",
    `    sha256: "${sha256Hex(apiKey)}"`,
    "",
  ].join("\n");
  // The credentials go to a file only the owner can read, written before the config, so
  // that a first start that fails later (a port in use) does not lose them; never to
  // stdout, which services send to logs.
  writeFileSync(
    credentialsFile,
    [
      "# Vigil's first start: the demo agent's ingest token and an admin API key.",
      "# Store them somewhere safe, then delete this file; Vigil keeps only their SHA-256.",
      `ingest_token ${token}`,
      `admin_api_key ${apiKey}`,
      "",
    ].join("\n"),
    { mode: 0o600, flag: "wx" },
  );
  writeFileSync(path, text, { mode: 0o600 });
  return { config: parseVigilConfig(text, path), path, credentialsFile };
}

/**
 * What a new user needs to send spans and query, printed once the listeners are up
 * while the first start's credentials file exists. It names the file; the secrets
 * themselves are never printed.
 */
export function demoBanner(credentialsFile: string, ingestPort: number, apiPort: number): string {
  const read = (name: string) => `$(awk '/^${name} /{print $2}' ${credentialsFile})`;
  return [
    "",
    `Vigil created a demo agent. Its ingest token and an admin API key are in ${credentialsFile}`,
    "(readable only by you): store them somewhere safe, then delete that file.",
    "",
    "Point any OpenTelemetry exporter at Vigil with:",
    "",
    `  export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://localhost:${ingestPort}/v1/traces`,
    `  export OTEL_EXPORTER_OTLP_TRACES_HEADERS="Authorization=Bearer ${read("ingest_token")}"`,
    "  export OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf",
    "",
    `Console and API: http://localhost:${apiPort}/ (sign in with the admin_api_key in that file)`,
    "",
  ].join("\n");
}

/** Logs where the config came from, without any secret in it. */
export function logConfigSource(logger: Logger, loaded: LoadedConfig): void {
  logger.info("config loaded", { path: loaded.path, agents: loaded.config.agents.length });
}
