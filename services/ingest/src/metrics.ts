import { Gauge } from "prom-client";
import type { Registry } from "prom-client";
import { counterFrom } from "@vigil/common";
import type { IngestService } from "./service";

/** Ingest's counters on /metrics: spans received, stored and refused by reason, INSERT time, memory bound. */
export function registerIngestMetrics(registry: Registry, ingest: IngestService): void {
  const s = ingest.stats;
  counterFrom(registry, "vigil_ingest_spans_received_total", "Spans received in valid requests", () => s.spansReceived);
  counterFrom(registry, "vigil_ingest_spans_rejected_total", "Spans refused by partial success", () => s.spansRejected);
  counterFrom(registry, "vigil_ingest_spans_stored_total", "Spans committed to the store", () => s.spansStored);
  counterFrom(
    registry,
    "vigil_ingest_spans_duplicate_total",
    "Spans of retried requests answered from dedup",
    () => s.spansDuplicate,
  );
  counterFrom(
    registry,
    "vigil_ingest_secrets_redacted_total",
    "Secrets removed before storage",
    () => s.secretsRedacted,
  );
  counterFrom(
    registry,
    "vigil_ingest_requests_rejected_total",
    "Requests refused, by reason",
    () => ({ ...s.requestsRejected }),
    "reason",
  );
  counterFrom(registry, "vigil_ingest_inserts_total", "Span batch INSERTs", () => s.inserts);
  counterFrom(
    registry,
    "vigil_ingest_insert_seconds_total",
    "Time spent in span batch INSERTs",
    () => s.insertMs / 1000,
  );
  new Gauge({
    name: "vigil_ingest_pending_rows",
    help: "Rows accepted but not yet committed (bounded; past the bound ingest answers 429 with Retry-After)",
    registers: [registry],
    collect() {
      this.set(ingest.batcher.pending);
    },
  });
  new Gauge({
    name: "vigil_ingest_pending_bytes",
    help: "Row text accepted but not yet written (bounded by VIGIL_MAX_PENDING_MIB)",
    registers: [registry],
    collect() {
      this.set(ingest.batcher.pendingSize);
    },
  });
}
