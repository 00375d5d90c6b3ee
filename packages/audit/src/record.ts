/**
 * One statement as a database's own audit log saw it: the ground truth beside what an
 * agent reported. Every field comes from the database's log line, never from an agent.
 */
export interface AuditRecord {
  /** "postgresql" or "mariadb" (OpenTelemetry's db.system.name values). */
  system: "postgresql" | "mariadb";
  /** When the database logged the statement, nanoseconds since the epoch (decimal). */
  timeUnixNano: string;
  /** The database user that ran it. */
  user: string;
  /** The database (schema) it ran in; "" when the log does not say. */
  database: string;
  /** The client's address as the database saw it; "" when not logged. */
  clientAddress: string;
  /** The database's session or connection: statements of one connection share it. */
  connection: string;
  /** The command as the database classified it: "SELECT", "INSERT", "DROP TABLE", ... (upper case). */
  command: string;
  /** The object the entry is about ("public.orders"), when the database names one. */
  objectName: string;
  /** The statement text as logged (may hold several statements, or parameters). */
  statement: string;
  /** False when the database refused the statement (MariaDB logs failed ones with their error code). */
  succeeded: boolean;
  /** Why the database refused it ("42501 permission denied for table orders"); "" when it ran. */
  error: string;
}
