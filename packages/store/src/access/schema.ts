import type { Migration } from "../migrations";

/** The materialized views that ingest's INSERT into spans feeds. */
export const SPAN_VIEWS = ["span_trace_index_mv", "span_session_index_mv", "agent_activity_mv", "agent_calls_5m_mv"];

/**
 * Materialized views run with the rights of whoever created them (the migrate user),
 * not of the inserting user. Without this, every INSERT by `vigil_ingest` failed in
 * its first view (ingest may not SELECT span columns nor write the aggregates), after
 * the span rows had committed: the request got 503 and each retry stored a copy.
 */
export const VIEW_SECURITY_MIGRATION: Migration = {
  version: 9,
  name: "materialized views run with their definer's rights",
  statements: SPAN_VIEWS.map((view) => `ALTER TABLE ${view} MODIFY SQL SECURITY DEFINER DEFINER = CURRENT_USER`),
};
