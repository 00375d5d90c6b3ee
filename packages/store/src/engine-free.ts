/**
 * What code that must not load the storage engine may import from the store: ingest's
 * pipeline threads. (Loading the embedded engine's native library in a worker thread
 * took 0.4 s and crashed the process when the thread was terminated.)
 */
export { encodeSpanLines, sealSpanLines, NO_INTEGRITY_FINDINGS } from "./spans/rows";
export type { EncodedRows, RowContext, SpanIntegrity } from "./spans/rows";
export { detectSpansOf } from "./spans/read";
export type { DetectSpan } from "./spans/read";
export { LOG_DIGEST_PREFIX } from "./spans/origin";
