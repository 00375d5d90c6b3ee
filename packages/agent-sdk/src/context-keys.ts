import { createContextKey } from "@opentelemetry/api";

/** The session every span started inside `agent.session(...)` belongs to. */
export const SESSION_KEY = createContextKey("vigil.session.id");
/** The credential in use inside `agent.withCredential(...)`. */
export const CREDENTIAL_KEY = createContextKey("vigil.credential.id");
/** The approval token of the action running inside `agent.confirm(...)`. */
export const APPROVAL_TOKEN_KEY = createContextKey("vigil.approval.token");
