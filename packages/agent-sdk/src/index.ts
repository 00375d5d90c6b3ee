export { startVigilAgent, vigilSpanProcessors, vigilExporter, vigilAgentHelpers } from "./start";
export { VigilAgent, CALLER_BAGGAGE_KEY } from "./agent";
export type { DbQuery, HttpCall, Approval } from "./agent";
export { VigilContextProcessor } from "./session-processor";
export { VigilSdkError, tracesUrl } from "./options";
export type { VigilAgentOptions } from "./options";
export { GateClient, VigilApprovalDenied } from "./gate";
export type { GatedAction, GateAnswer } from "./gate";
