export {
  AckRequest,
  CreateTokenRequest,
  DecisionAnswer,
  GRANT_DIALECTS,
  GrantsRequest,
  REQUEST_BODIES,
  SilenceRequest,
  SqlRequest,
  VerifyRequest,
  bodyProblems,
} from "./requests";
export type { RequestBody } from "./requests";
