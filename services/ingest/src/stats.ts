/** Why a request or span was refused; the keys are stable for metrics. */
export type RejectReason = "unauthenticated" | "unsupported_media_type" | "too_large" | "malformed" | "unavailable";

/** Counters kept by ingest, read by tests, the bench and (later) /metrics. */
export class IngestStats {
  spansReceived = 0;
  spansRejected = 0;
  spansStored = 0;
  spansDuplicate = 0;
  secretsRedacted = 0;
  /** INSERTs of span batches, and the time they took in total (ms). */
  inserts = 0;
  insertMs = 0;
  readonly requestsRejected: Record<RejectReason, number> = {
    unauthenticated: 0,
    unsupported_media_type: 0,
    too_large: 0,
    malformed: 0,
    unavailable: 0,
  };

  received(spans: number, rejected: number): void {
    this.spansReceived += spans;
    this.spansRejected += rejected;
  }

  stored(spans: number): void {
    this.spansStored += spans;
  }

  inserted(_rows: number, ms: number): void {
    this.inserts++;
    this.insertMs += ms;
  }

  redacted(secrets: number): void {
    this.secretsRedacted += secrets;
  }

  duplicate(spans: number): void {
    this.spansDuplicate += spans;
  }

  reject(reason: RejectReason): void {
    this.requestsRejected[reason]++;
  }
}
