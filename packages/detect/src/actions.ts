import type { DetectSpan } from "@vigil/store";

/** The step changes something or reaches out: what an injected instruction would want. */
export function actionOf(span: DetectSpan): string | undefined {
  const f = span.facts;
  if (f.destructive) return `destructive operation (${f.destructiveReason})`;
  if (f.dbTablesWritten.length > 0) return `write to ${f.dbTablesWritten.join(", ")}`;
  if (f.outboundHost !== "" && span.kind === 3) return `outbound call to ${f.outboundHost}`;
  if (f.credentialId !== "") return `use of credential ${f.credentialId}`;
  if (f.peerAgent !== "" && span.kind === 3) return `call to agent ${f.peerAgent}`;
  return undefined;
}
