-- Least privilege for Vigil's services on a ClickHouse server (server mode).
-- Each service connects as its own user with only the grants it needs. Replace each
-- {..._password_sha256} with the hex SHA-256 of that service's password (the password
-- itself is given to the service through CLICKHOUSE_<SERVICE>_PASSWORD or _PASSWORD_FILE
-- and never written here). Run as an administrator after creating the database:
--   clickhouse-client --multiquery < users.sql

CREATE DATABASE IF NOT EXISTS vigil;

-- Schema changes only: used by `npm run migrate` (and the all-in-one at start).
CREATE USER IF NOT EXISTS vigil_migrate IDENTIFIED WITH sha256_hash BY '{migrate_password_sha256}' DEFAULT DATABASE vigil;
GRANT CREATE TABLE, CREATE VIEW, ALTER ADD COLUMN, ALTER ADD INDEX, SELECT, INSERT ON vigil.* TO vigil_migrate;

-- Ingest writes spans (and, through the materialized views, their lookup tables), the
-- ledger and checkpoints; it reads only what it needs to resume: the ledger head and
-- the recent request digests for retry dedup. No UPDATE, DELETE, ALTER, TRUNCATE, DROP.
CREATE USER IF NOT EXISTS vigil_ingest IDENTIFIED WITH sha256_hash BY '{ingest_password_sha256}' DEFAULT DATABASE vigil;
GRANT INSERT ON vigil.spans TO vigil_ingest;
GRANT INSERT ON vigil.span_trace_index TO vigil_ingest;
GRANT INSERT ON vigil.span_session_index TO vigil_ingest;
GRANT INSERT, SELECT ON vigil.ledger TO vigil_ingest;
GRANT INSERT ON vigil.ledger_checkpoints TO vigil_ingest;
GRANT SELECT(request_digest, received_at) ON vigil.spans TO vigil_ingest;

-- The worker reads spans and the ledger; it writes only its own tables (alerts,
-- deliveries, baselines) once they exist.
CREATE USER IF NOT EXISTS vigil_worker IDENTIFIED WITH sha256_hash BY '{worker_password_sha256}' DEFAULT DATABASE vigil;
GRANT SELECT ON vigil.spans TO vigil_worker;
GRANT SELECT ON vigil.span_trace_index TO vigil_worker;
GRANT SELECT ON vigil.span_session_index TO vigil_worker;
GRANT SELECT ON vigil.ledger TO vigil_worker;

-- The API only reads, and its profile makes every query read-only (readonly = 2 lets
-- the API set per-query limits such as max_execution_time, never write).
CREATE SETTINGS PROFILE IF NOT EXISTS vigil_readonly SETTINGS readonly = 2, max_execution_time = 30, max_memory_usage = 4000000000;
CREATE USER IF NOT EXISTS vigil_api IDENTIFIED WITH sha256_hash BY '{api_password_sha256}' DEFAULT DATABASE vigil SETTINGS PROFILE vigil_readonly;
GRANT SELECT ON vigil.* TO vigil_api;
