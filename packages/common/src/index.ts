export { VigilError, InputError, PermanentError, UnavailableError, ConfigError } from "./errors";
export { createLogger } from "./logger";
export type { Logger, LogLevel } from "./logger";
