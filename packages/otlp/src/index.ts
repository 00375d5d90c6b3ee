export { decodeLogsRequestProtobuf, decodeTraceRequestProtobuf } from "./decode-protobuf";
export { decodeLogsRequestJson, decodeTraceRequestJson } from "./decode-json";
export { LogRowIds } from "./log-rows";
export { decodeLogBodiesJson, decodeLogBodiesProtobuf } from "./decode-logs";
export type { DecodedLogBodies } from "./decode-logs";
export {
  encodeExportResponseProtobuf,
  encodeExportResponseJson,
  encodeStatusProtobuf,
  encodeStatusJson,
  RpcCode,
} from "./encode-response";
export type { PartialSuccess } from "./encode-response";
export { MAX_VALUE_DEPTH, compareDecimal, recordRejection } from "./validate";
export { newAttributes } from "./model";
export type {
  AnyValue,
  Attributes,
  DecodedRequest,
  KeyValue,
  Resource,
  Scope,
  Span,
  SpanEvent,
  SpanLink,
} from "./model";
