import { ConfigError } from "@vigil/common";
import { readFileSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { resolve } from "node:path";
import type { LogLevel } from "@vigil/common";

/** The services that connect to ClickHouse, each as its own user in server mode. */
export type StoreRole = "migrate" | "ingest" | "worker" | "api" | "sql";

export interface StoreCredentials {
  username: string | undefined;
  password: string | undefined;
}

/**
 * The environment variables as read at start, for the secret references of the YAML
 * config (`{env: NAME}`): resolved against this copy, so nothing else reads process.env.
 */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/** Settings that come from the environment. Secrets are read here and nowhere else. */
export interface Environment {
  configPath: string | undefined;
  dataDir: string;
  ingestPort: number;
  apiPort: number;
  host: string;
  clickhouseUrl: string | undefined;
  clickhouseUser: string | undefined;
  clickhousePassword: string | undefined;
  /** Per-service users (CLICKHOUSE_<ROLE>_USER / _PASSWORD / _PASSWORD_FILE), falling back to CLICKHOUSE_USER. */
  clickhouseCredentials: Record<StoreRole, StoreCredentials>;
  logLevel: LogLevel;
  /** Ed25519 key that signs ledger checkpoints (created on first start). */
  signingKeyFile: string;
  /**
   * Ed25519 key that signs approval tokens (the confirmation gate), created on first use;
   * the API holds it, ingest only its public half (`<file>.pub`, VIGIL_APPROVAL_PUBLIC_KEY_FILE).
   */
  approvalKeyFile: string;
  approvalPublicKeyFile: string;
  /** The ledger's public key for a process that only verifies (the separate API): default `<signing key>.pub`. */
  ledgerPublicKeyFile: string;
  /** The key's name in signed checkpoints, and the log origin prefix. */
  ledgerName: string;
  /**
   * This ingest's ledger chain (VIGIL_CHAIN_ID): one per ingest process that writes
   * concurrently, e.g. one per shard. Unset: "main" in the all-in-one; the separate
   * ingest falls back to its host name.
   */
  chainId: string | undefined;
  /** This machine's name (HOSTNAME, else the OS's): the separate ingest's chain and the API's decision chain. */
  hostName: string;
  /** What the config's `{env: NAME}` secret references resolve against. */
  variables: EnvironmentVariables;
  checkpointIntervalMs: number;
  /** Longest run of one query on POST /api/sql. */
  sqlTimeoutSeconds: number;
  /**
   * The ledger verifier key operators recorded outside Vigil (VIGIL_LEDGER_VERIFIER_KEY):
   * the signing key must be this one, and verification checks checkpoints against it.
   */
  ledgerVerifierKey: string | undefined;
  /** A file outside the data directory where every signed checkpoint is also appended. */
  checkpointWitnessFile: string | undefined;
  /**
   * Embedded only: the longest a reader's SQL query may hold the engine while agents are
   * sending (it runs one statement at a time, so ingest's writes wait at most this long
   * behind one); 30 ms keeps ingest's p99 within twice its idle p99.
   */
  embeddedSqlSliceSeconds: number;
  /** Redis for the BullMQ queues; without it the all-in-one runs the processors in-process. */
  redisUrl: string | undefined;
  /** How often detection catches up from the ledger even without a trigger. */
  detectIntervalMs: number;
  /** How often baselines are rebuilt from the aggregates. */
  baselineIntervalMs: number;
  /** The operations port (/healthz, /readyz, /metrics); unset in the all-in-one means none. */
  metricsPort: number | undefined;
  /** With CLICKHOUSE_URL: the cluster to create replicated and distributed tables on. */
  clickhouseCluster: string | undefined;
  /**
   * This server only reads: its tables are `Distributed` over the shards of this
   * cluster (from the server's `remote_servers`), each a single-server Vigil store.
   */
  clickhouseShards: string | undefined;
  /** Where people reach the console: links in alerts point there. */
  publicUrl: string;
  /** Longest wait for a receiver's answer before the attempt counts as failed (and is retried). */
  deliveryTimeoutMs: number;
  /** How often the alert dispatcher looks for new alerts and due groups. */
  dispatchIntervalMs: number;
  /** Ingest backpressure: rows waiting to be stored past which requests get 429 with Retry-After. */
  maxPendingRows: number;
  /**
   * Threads that decode, redact, read facts and encode rows beside ingest's main thread
   * (VIGIL_INGEST_THREADS; 0: all on the main thread). Default: one per core beyond two.
   */
  ingestThreads: number;
  /** Ingest backpressure: row text waiting (bytes) at which requests get 429 with Retry-After. */
  maxPendingBytes: number;
}

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * Reads Vigil's environment variables, validates them and fills defaults.
 *
 * @throws ConfigError listing every invalid variable.
 */
export function readEnvironment(env: NodeJS.ProcessEnv): Environment {
  const problems: string[] = [];
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      problems.push(`${name}: "${raw}" is not a port number (0-65535)`);
      return fallback;
    }
    return n;
  };
  const seconds = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) {
      problems.push(`${name}: "${raw}" is not a positive number of seconds`);
      return fallback;
    }
    return n;
  };
  const count = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n <= 0) {
      problems.push(`${name}: "${raw}" is not a positive whole number`);
      return fallback;
    }
    return n;
  };
  const threads = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0 || n > 256) {
      problems.push(`${name}: "${raw}" is not a thread count from 0 to 256`);
      return fallback;
    }
    return n;
  };
  const logLevel = (env.VIGIL_LOG_LEVEL ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`VIGIL_LOG_LEVEL: must be one of ${LOG_LEVELS.join(", ")}`);
  const clickhouseUrl = nonEmpty(env.CLICKHOUSE_URL);
  const redis = nonEmpty(env.REDIS_URL);
  if (redis !== undefined && !/^rediss?:\/\//.test(redis))
    problems.push("REDIS_URL: must be a redis:// or rediss:// URL");
  if (clickhouseUrl !== undefined && !/^https?:\/\//.test(clickhouseUrl)) {
    problems.push("CLICKHOUSE_URL: must be an http:// or https:// URL");
  }
  const secret = (name: string): string | undefined => {
    const inline = nonEmpty(env[name]);
    const file = nonEmpty(env[`${name}_FILE`]);
    if (inline !== undefined && file !== undefined) problems.push(`${name} and ${name}_FILE: set one, not both`);
    if (file === undefined) return inline;
    try {
      return readFileSync(file, "utf8").trim();
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
      return undefined;
    }
  };
  const defaultUser = nonEmpty(env.CLICKHOUSE_USER);
  const defaultPassword = secret("CLICKHOUSE_PASSWORD");
  const credentials = (role: StoreRole): StoreCredentials => {
    const upper = role.toUpperCase();
    const username = nonEmpty(env[`CLICKHOUSE_${upper}_USER`]);
    return username === undefined
      ? { username: defaultUser, password: defaultPassword }
      : { username, password: secret(`CLICKHOUSE_${upper}_PASSWORD`) };
  };
  const clickhouseCluster = nonEmpty(env.VIGIL_CLICKHOUSE_CLUSTER);
  if (clickhouseCluster !== undefined && clickhouseUrl === undefined)
    problems.push("VIGIL_CLICKHOUSE_CLUSTER: needs CLICKHOUSE_URL (the embedded engine is one node)");
  if (clickhouseCluster !== undefined && !/^[A-Za-z_][\w-]*$/.test(clickhouseCluster))
    problems.push("VIGIL_CLICKHOUSE_CLUSTER: letters, digits, '_' and '-' only");
  const clickhouseShards = nonEmpty(env.VIGIL_CLICKHOUSE_SHARDS);
  if (clickhouseShards !== undefined && clickhouseUrl === undefined)
    problems.push("VIGIL_CLICKHOUSE_SHARDS: needs CLICKHOUSE_URL (the server that reads the shards)");
  if (clickhouseShards !== undefined && !/^[A-Za-z_][\w-]*$/.test(clickhouseShards))
    problems.push("VIGIL_CLICKHOUSE_SHARDS: letters, digits, '_' and '-' only");
  if (clickhouseShards !== undefined && clickhouseCluster !== undefined)
    problems.push(
      "VIGIL_CLICKHOUSE_SHARDS and VIGIL_CLICKHOUSE_CLUSTER: set one (a cluster already reads every shard)",
    );
  const chainId = nonEmpty(env.VIGIL_CHAIN_ID);
  if (chainId !== undefined && !/^[\w.-]{1,64}$/.test(chainId))
    problems.push("VIGIL_CHAIN_ID: up to 64 letters, digits, '_', '.' and '-'");
  const apiPort = port("VIGIL_API_PORT", 8080);
  const publicUrl = nonEmpty(env.VIGIL_PUBLIC_URL) ?? `http://localhost:${apiPort}`;
  if (!/^https?:\/\//.test(publicUrl)) problems.push("VIGIL_PUBLIC_URL: must be an http:// or https:// URL");
  const result: Environment = {
    configPath: nonEmpty(env.VIGIL_CONFIG),
    dataDir: resolve(env.VIGIL_DATA_DIR ?? "./data"),
    ingestPort: port("VIGIL_INGEST_PORT", 4318),
    apiPort,
    // Loopback unless told otherwise: listening wider is a decision (the container image makes it).
    host: env.VIGIL_HOST ?? "127.0.0.1",
    clickhouseUrl,
    clickhouseUser: defaultUser,
    clickhousePassword: defaultPassword,
    clickhouseCredentials: {
      migrate: credentials("migrate"),
      ingest: credentials("ingest"),
      worker: credentials("worker"),
      api: credentials("api"),
      sql: credentials("sql"),
    },
    logLevel,
    ledgerPublicKeyFile: resolve(
      env.VIGIL_LEDGER_PUBLIC_KEY_FILE ??
        `${env.VIGIL_SIGNING_KEY_FILE ?? resolve(env.VIGIL_DATA_DIR ?? "./data", "ledger-signing.key")}.pub`,
    ),
    approvalKeyFile: resolve(
      env.VIGIL_APPROVAL_KEY_FILE ?? resolve(env.VIGIL_DATA_DIR ?? "./data", "approval-signing.key"),
    ),
    approvalPublicKeyFile: resolve(
      env.VIGIL_APPROVAL_PUBLIC_KEY_FILE ??
        `${env.VIGIL_APPROVAL_KEY_FILE ?? resolve(env.VIGIL_DATA_DIR ?? "./data", "approval-signing.key")}.pub`,
    ),
    signingKeyFile: resolve(
      env.VIGIL_SIGNING_KEY_FILE ?? resolve(env.VIGIL_DATA_DIR ?? "./data", "ledger-signing.key"),
    ),
    ledgerName: env.VIGIL_LEDGER_NAME ?? "vigil-ledger",
    chainId,
    hostName: nonEmpty(env.HOSTNAME) ?? hostname(),
    variables: Object.freeze({ ...env }),
    checkpointIntervalMs: seconds("VIGIL_CHECKPOINT_INTERVAL_SECONDS", 60) * 1000,
    sqlTimeoutSeconds: Math.ceil(seconds("VIGIL_SQL_TIMEOUT_SECONDS", 10)),
    ledgerVerifierKey: nonEmpty(env.VIGIL_LEDGER_VERIFIER_KEY),
    checkpointWitnessFile:
      nonEmpty(env.VIGIL_CHECKPOINT_WITNESS_FILE) === undefined
        ? undefined
        : resolve(env.VIGIL_CHECKPOINT_WITNESS_FILE as string),
    embeddedSqlSliceSeconds: seconds("VIGIL_EMBEDDED_SQL_SLICE_SECONDS", 0.03),
    redisUrl: nonEmpty(env.REDIS_URL),
    detectIntervalMs: seconds("VIGIL_DETECT_INTERVAL_SECONDS", 30) * 1000,
    baselineIntervalMs: seconds("VIGIL_BASELINE_INTERVAL_SECONDS", 300) * 1000,
    publicUrl,
    clickhouseCluster,
    clickhouseShards,
    metricsPort:
      env.VIGIL_METRICS_PORT === undefined || env.VIGIL_METRICS_PORT === ""
        ? undefined
        : port("VIGIL_METRICS_PORT", 9464),
    deliveryTimeoutMs: seconds("VIGIL_DELIVERY_TIMEOUT_SECONDS", 10) * 1000,
    dispatchIntervalMs: seconds("VIGIL_DISPATCH_INTERVAL_SECONDS", 1) * 1000,
    maxPendingRows: count("VIGIL_MAX_PENDING_ROWS", 400_000),
    maxPendingBytes: count("VIGIL_MAX_PENDING_MIB", 512) * 1024 * 1024,
    // A core for the main thread and one for the store's engine first: on 2 cores a
    // pipeline thread cost 13% of throughput and 31% of ack p99 (npm run bench:threads).
    ingestThreads: threads("VIGIL_INGEST_THREADS", Math.max(0, availableParallelism() - 2)),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return result;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/**
 * The separate services run against a ClickHouse server only (an embedded store belongs
 * to the one process that opened it): its URL and this service's own credentials.
 */
export function serverConnection(
  env: Environment,
  role: StoreRole,
  service: string,
): { mode: "server"; url: string; username?: string; password?: string } {
  if (env.clickhouseUrl === undefined)
    throw new ConfigError([
      `CLICKHOUSE_URL: ${service} runs as its own process against a ClickHouse server; the embedded store runs inside \`npm start\``,
    ]);
  const { username, password } = env.clickhouseCredentials[role];
  return {
    mode: "server",
    url: env.clickhouseUrl,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}
