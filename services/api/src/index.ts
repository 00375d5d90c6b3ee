export { createApiApp } from "./app";
export type { ApiDeps, BaselineRebuilder } from "./app";
export { apiKeyRegistry, requireApiKey, requireAdmin } from "./auth";
export type { ApiCaller, ApiEnv, Role } from "./auth";
export { runReadOnlySql, QUERYABLE_TABLES, DEFAULT_SQL_LIMITS } from "./sql";
export type { SqlLimits, SqlResult } from "./sql";
