import protobuf from "protobufjs/minimal.js";

/** What OTLP calls partial success: how many spans were rejected, and why. */
export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/**
 * `ExportTraceServiceResponse` in protobuf. `partial_success` is only present when
 * something was rejected, as the OTLP specification asks.
 */
export function encodeExportResponseProtobuf(partial?: PartialSuccess): Uint8Array {
  const w = protobuf.Writer.create();
  if (partial && (partial.rejectedSpans > 0 || partial.errorMessage !== "")) {
    w.uint32((1 << 3) | 2).fork();
    if (partial.rejectedSpans > 0) w.uint32((1 << 3) | 0).int64(partial.rejectedSpans);
    if (partial.errorMessage !== "") w.uint32((2 << 3) | 2).string(partial.errorMessage);
    w.ldelim();
  }
  return w.finish();
}

/** `ExportTraceServiceResponse` in OTLP/JSON (int64 as a string). */
export function encodeExportResponseJson(partial?: PartialSuccess): string {
  if (!partial || (partial.rejectedSpans === 0 && partial.errorMessage === "")) return "{}";
  return JSON.stringify({
    partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage },
  });
}

/** google.rpc.Status codes used by OTLP/HTTP error bodies. */
export const RpcCode = {
  INVALID_ARGUMENT: 3,
  UNAUTHENTICATED: 16,
  RESOURCE_EXHAUSTED: 8,
  UNAVAILABLE: 14,
  INTERNAL: 13,
} as const;

/** A `google.rpc.Status` error body in protobuf. */
export function encodeStatusProtobuf(code: number, message: string): Uint8Array {
  const w = protobuf.Writer.create();
  if (code !== 0) w.uint32((1 << 3) | 0).int32(code);
  if (message !== "") w.uint32((2 << 3) | 2).string(message);
  return w.finish();
}

/** A `google.rpc.Status` error body in JSON. */
export function encodeStatusJson(code: number, message: string): string {
  return JSON.stringify({ code, message });
}
