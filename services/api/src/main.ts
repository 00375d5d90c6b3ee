import { createPublicKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import {
  ConfigError,
  createLogger,
  createMetricsRegistry,
  runMain,
  startHttpServer,
  startOpsServer,
} from "@vigil/common";
import { loadVigilConfig, readEnvironment, resolveSecret, serverConnection } from "@vigil/config";
import { jobBus } from "@vigil/jobs";
import { loadOrCreateSigningKey, openStoreClient, parseVerifierKey } from "@vigil/store";
import { createApiApp } from "./app";
import { DEFAULT_SQL_LIMITS } from "./sql";

// `npm run start:api`: the query API and console as their own process, on a ClickHouse
// server as the read-mostly API user. It holds the ledger's public key only
// (VIGIL_LEDGER_PUBLIC_KEY_FILE, default <signing key>.pub), never the private key.
await runMain("vigil-api", async () => {
  const env = readEnvironment(process.env);
  if (env.configPath === undefined)
    throw new ConfigError(["VIGIL_CONFIG: the separate API needs the config file (API keys)"]);
  const config = loadVigilConfig(env.configPath);
  const logger = createLogger(env.logLevel, { process: "vigil-api" });
  const client = openStoreClient(serverConnection(env, "api", "the API"));
  // POST /api/sql runs as its own user, which may only SELECT the readable tables.
  const sqlClient = openStoreClient(serverConnection(env, "sql", "the API"));
  const publicKeyFile = env.ledgerPublicKeyFile;
  // A pinned verifier key wins over the key file: it is what operators recorded outside Vigil.
  let loadedKey: { name: string; publicKey: KeyObject } | undefined;
  const ledgerKey = () =>
    (loadedKey ??=
      env.ledgerVerifierKey !== undefined
        ? parseVerifierKey(env.ledgerVerifierKey)
        : existsSync(publicKeyFile)
          ? { name: env.ledgerName, publicKey: createPublicKey(readFileSync(publicKeyFile)) }
          : undefined);
  // Rebuilds are queued for a worker (without Redis there is none to reach: 503).
  const bus = jobBus(env.redisUrl, logger);
  const app = createApiApp({
    // The API signs approval tokens when a person approves; ingest holds only the public half.
    approvalKey: loadOrCreateSigningKey(env.approvalKeyFile, "vigil-approvals"),
    client,
    sqlClient,
    config,
    hostName: env.hostName,
    logger,
    slackSigningSecret: resolveSecret(config.approvals.slack_signing_secret, env.variables),
    ...(env.checkpointWitnessFile === undefined ? {} : { witnessFile: env.checkpointWitnessFile }),
    sqlLimits: { ...DEFAULT_SQL_LIMITS, maxExecutionSeconds: env.sqlTimeoutSeconds },
    // Read when first needed: on a first start the worker may create the key after this starts.
    get ledgerKey() {
      return ledgerKey();
    },
    baselines: bus,
  });
  const ops = await startOpsServer(env.metricsPort ?? 9464, env.host, createMetricsRegistry("api"), async () => ({
    ready: (await client.ping()).success,
    reason: "the store does not answer",
  }));
  const server = await startHttpServer(app, env.apiPort, env.host);
  logger.info("listening", { apiPort: server.port, opsPort: ops.port, ledgerKey: existsSync(publicKeyFile) });
  return {
    stop: async () => {
      await server.close();
      await bus.close();
      await ops.close();
      await client.close();
      await sqlClient.close();
    },
  };
});
