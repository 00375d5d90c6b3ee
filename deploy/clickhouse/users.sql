-- Generated from packages/store/src/access/service-users.ts by `npm run render:users`: edit that file.
-- Least privilege for Vigil's services on a ClickHouse server (server mode).
-- Each service connects as its own user with only the grants it needs. Replace each
-- {..._password_sha256} with the hex SHA-256 of that service's password (the password
-- itself is given to the service through CLICKHOUSE_<SERVICE>_PASSWORD or _PASSWORD_FILE
-- and never written here). Run as an administrator after creating the database:
--   clickhouse-client --multiquery < users.sql

CREATE DATABASE IF NOT EXISTS vigil;

-- Schema changes only: used by `npm run migrate` (and the all-in-one at start). TABLE ENGINE is
-- checked by servers with table_engines_require_grant; ALTER TTL applies a retention config.
CREATE USER IF NOT EXISTS vigil_migrate IDENTIFIED WITH sha256_hash BY '{migrate_password_sha256}' DEFAULT DATABASE vigil;
GRANT CREATE TABLE, CREATE VIEW, ALTER ADD COLUMN, ALTER ORDER BY, ALTER ADD INDEX, ALTER TTL, ALTER SETTINGS, ALTER VIEW MODIFY QUERY, ALTER VIEW MODIFY SQL SECURITY, SELECT, INSERT ON vigil.* TO vigil_migrate;
GRANT TABLE ENGINE ON * TO vigil_migrate;

-- Ingest writes spans (the materialized views fill their lookup tables with their
-- definer's rights) and the ledger; it reads only what it needs to resume:
-- the ledger, the recent request digests for retry dedup (and, by batch id, which
-- requests of a batch refused during a store outage were stored after all), and the
-- tokens created through the API (SHA-256 only), the approvals already used (so a
-- token is accepted once), its agents' gate requests (to answer and collect them) and the
-- per-agent activity aggregates (values only) the gate's history triggers judge by.
-- No UPDATE, DELETE, ALTER, TRUNCATE, DROP.
CREATE USER IF NOT EXISTS vigil_ingest IDENTIFIED WITH sha256_hash BY '{ingest_password_sha256}' DEFAULT DATABASE vigil;
GRANT INSERT ON vigil.spans TO vigil_ingest;
GRANT INSERT, SELECT ON vigil.ledger TO vigil_ingest;
GRANT SELECT(request_digest, received_at, batch_id, trace_id, span_id, approval_id, approval_status) ON vigil.spans TO vigil_ingest;
GRANT INSERT, SELECT ON vigil.decisions TO vigil_ingest;
GRANT INSERT, SELECT ON vigil.decision_ledger TO vigil_ingest;
GRANT SELECT ON vigil.agent_activity TO vigil_ingest;
GRANT SELECT ON vigil.agent_tokens TO vigil_ingest;

-- The worker reads spans, the ledger, the aggregates and what people decided (silences,
-- acknowledgements, tokens); it writes only detection's and delivery's own tables, and
-- the checkpoints it signs (the signing key is the worker's, never ingest's).
CREATE USER IF NOT EXISTS vigil_worker IDENTIFIED WITH sha256_hash BY '{worker_password_sha256}' DEFAULT DATABASE vigil;
GRANT SELECT ON vigil.* TO vigil_worker;
GRANT INSERT ON vigil.alerts TO vigil_worker;
GRANT INSERT ON vigil.detection_cursor TO vigil_worker;
GRANT INSERT ON vigil.audit_judge_cursor TO vigil_worker;
GRANT INSERT ON vigil.agent_baselines TO vigil_worker;
GRANT INSERT ON vigil.notifications TO vigil_worker;
GRANT INSERT ON vigil.delivery_attempts TO vigil_worker;
GRANT INSERT ON vigil.receiver_state TO vigil_worker;
GRANT INSERT ON vigil.dispatch_cursor TO vigil_worker;
GRANT INSERT ON vigil.ledger_checkpoints TO vigil_worker;

-- The API reads everything and records only people's decisions: acknowledgements,
-- silences, tokens, re-enabled receivers, approval decisions (and their entries in the
-- decisions' own ledger table, never the spans' ledger).
-- POST /api/sql runs each query with readonly = 1 in its own settings, so questions
-- asked there cannot write, change settings or call table functions either.
CREATE SETTINGS PROFILE IF NOT EXISTS vigil_api_limits SETTINGS max_execution_time = 30, max_memory_usage = 4000000000;
CREATE USER IF NOT EXISTS vigil_api IDENTIFIED WITH sha256_hash BY '{api_password_sha256}' DEFAULT DATABASE vigil SETTINGS PROFILE vigil_api_limits;
GRANT SELECT ON vigil.* TO vigil_api;
GRANT INSERT ON vigil.alert_acks TO vigil_api;
GRANT INSERT ON vigil.silences TO vigil_api;
GRANT INSERT ON vigil.agent_tokens TO vigil_api;
GRANT INSERT ON vigil.receiver_state TO vigil_api;
GRANT INSERT ON vigil.decisions TO vigil_api;
GRANT INSERT ON vigil.decision_ledger TO vigil_api;

-- POST /api/sql runs readers' statements as this user: SELECT on the readable tables
-- only, and no grant to read files or URLs or to see other tables, so the engine
-- refuses what the endpoint's own check might miss. CREATE TEMPORARY TABLE is what
-- the harmless table functions (numbers) need; readonly = 2 stops every write and
-- lets each query tighten its own limits (it sets readonly = 1 itself).
CREATE SETTINGS PROFILE IF NOT EXISTS vigil_sql_limits SETTINGS readonly = 2, max_execution_time = 10, max_memory_usage = 2000000000;
CREATE USER IF NOT EXISTS vigil_sql IDENTIFIED WITH sha256_hash BY '{sql_password_sha256}' DEFAULT DATABASE vigil SETTINGS PROFILE vigil_sql_limits;
GRANT SELECT ON vigil.spans TO vigil_sql;
GRANT SELECT ON vigil.span_trace_index TO vigil_sql;
GRANT SELECT ON vigil.span_session_index TO vigil_sql;
GRANT SELECT ON vigil.trace_sessions TO vigil_sql;
GRANT SELECT ON vigil.ledger TO vigil_sql;
GRANT SELECT ON vigil.ledger_checkpoints TO vigil_sql;
GRANT SELECT ON vigil.alerts TO vigil_sql;
GRANT SELECT ON vigil.agent_activity TO vigil_sql;
GRANT SELECT ON vigil.agent_calls_5m TO vigil_sql;
GRANT SELECT ON vigil.agent_baselines TO vigil_sql;
GRANT CREATE TEMPORARY TABLE ON *.* TO vigil_sql;
