export { createApiApp } from "./app";
export type { ApiDeps } from "./app";
export { apiKeyRegistry, requireApiKey, requireAdmin } from "./auth";
export type { ApiCaller, ApiEnv, Role } from "./auth";
