export { VigilError, InputError, RequestError, UnavailableError, ConfigError } from "./errors";
export { createLogger } from "./logger";
export { uuidv7 } from "./ids";
export type { Logger, LogLevel } from "./logger";
export { DEFAULT_LISTENER_LIMITS, startHttpServer } from "./http-server";
export type { FetchApp, ListenerLimits, RunningServer } from "./http-server";
export { DigestRegistry, bearerToken } from "./digest-registry";
export { createMetricsRegistry, counterFrom, startOpsServer } from "./ops-server";
export { runMain } from "./run-main";
