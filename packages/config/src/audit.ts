/** The database audit log formats Vigil reads (config `audit.sources[].format`). */
export const AUDIT_FORMATS = ["pgaudit-jsonlog", "pgaudit-csvlog", "mariadb-server-audit"] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/**
 * The agent id audit records of a database user no source maps to an agent are stored
 * under: kept and shown, never dropped. No agent may be declared with it.
 */
export const UNMAPPED_DB_USER_AGENT = "unmapped-db-user";

/**
 * The `db.system.name` values the clients of each format's database report: a span of
 * one of these systems is a step the source's audit log should have seen (MariaDB's
 * clients, mysql2 among them, report "mysql").
 */
export const AUDIT_FORMAT_SYSTEMS: Readonly<Record<AuditFormat, readonly string[]>> = {
  "pgaudit-jsonlog": ["postgresql"],
  "pgaudit-csvlog": ["postgresql"],
  "mariadb-server-audit": ["mariadb", "mysql"],
};
