export { openStoreClient } from "./client";
export type { ClickHouseClient, StorePlacement } from "./client";
export { runMigrations, MIGRATIONS } from "./migrations";
export type { Migration } from "./migrations";
export { SPAN_INSERT_COLUMNS, encodeSpanRows } from "./spans/rows";
export type { RowContext } from "./spans/rows";
export { insertSpanBatch } from "./spans/write";
export { findTrace, findSession, findAgentSpans, recentRequestDigests, countSpans } from "./spans/read";
export type { StoredSpan } from "./spans/read";
