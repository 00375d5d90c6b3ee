/** The database audit log formats Vigil reads (config `audit.sources[].format`). */
export const AUDIT_FORMATS = ["pgaudit-jsonlog", "pgaudit-csvlog", "mariadb-server-audit"] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/**
 * The agent id audit records of a database user no source maps to an agent are stored
 * under: kept and shown, never dropped. No agent may be declared with it.
 */
export const UNMAPPED_DB_USER_AGENT = "unmapped-db-user";
