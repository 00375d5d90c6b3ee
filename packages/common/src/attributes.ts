/**
 * The span attributes Vigil defines where OpenTelemetry has no convention: what the agent
 * SDK writes and what the fact extractor, the confirmation gate and ingest read. One name
 * each, here, so the writer and the readers cannot drift apart (named as the OTel
 * semantic-conventions package names its constants). A dependency-free module: the SDK
 * imports it as `@vigil/common/attributes`.
 */

/** The credential a step used (a database user, an API key's id): never the secret itself. */
export const ATTR_VIGIL_CREDENTIAL_ID = "vigil.credential.id";
/** The agent this step calls (on the caller's CLIENT span). */
export const ATTR_VIGIL_PEER_AGENT = "vigil.peer.agent";
/** The agent that called this one (on the callee's SERVER span; also the baggage key that carries it). */
export const ATTR_VIGIL_CALLER_AGENT = "vigil.caller.agent";
/** The session in the SDK's context (written to spans as `session.id`). */
export const ATTR_VIGIL_SESSION_ID = "vigil.session.id";
/** A human decision recorded by the agent (an approval span or event): what the agent says, not proof. */
export const ATTR_VIGIL_APPROVAL_ID = "vigil.approval.id";
export const ATTR_VIGIL_APPROVAL_STATUS = "vigil.approval.status";
export const ATTR_VIGIL_APPROVAL_APPROVER = "vigil.approval.approver";
export const ATTR_VIGIL_APPROVAL_REASON = "vigil.approval.reason";
/** The approval token Vigil signed, attached to the gated step: the only approval that counts. */
export const ATTR_VIGIL_APPROVAL_TOKEN = "vigil.approval.token";
