import { ATTR_VIGIL_APPROVAL_TOKEN, ATTR_VIGIL_CREDENTIAL_ID, ATTR_VIGIL_SESSION_ID } from "@vigil/common/attributes";
import { createContextKey } from "@opentelemetry/api";

/** The session every span started inside `agent.session(...)` belongs to. */
export const SESSION_KEY = createContextKey(ATTR_VIGIL_SESSION_ID);
/** The credential in use inside `agent.withCredential(...)`. */
export const CREDENTIAL_KEY = createContextKey(ATTR_VIGIL_CREDENTIAL_ID);
/** The approval token of the action running inside `agent.confirm(...)`. */
export const APPROVAL_TOKEN_KEY = createContextKey(ATTR_VIGIL_APPROVAL_TOKEN);
