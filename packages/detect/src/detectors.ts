import type { Alert } from "@vigil/store";
import { callVolume } from "./learned/call-volume";
import {
  credentialNewHost,
  newCredential,
  newHost,
  newPeerAgent,
  newTable,
  newTableOperation,
  newTool,
} from "./learned/novelty";
import { newEnvironment } from "./learned/new-environment";
import { offHours } from "./learned/off-hours";
import type { DetectionContext, Detector } from "./model";
import { backdatedSpans } from "./rules/backdated-spans";
import { destructiveWithoutApproval } from "./rules/destructive-without-approval";
import { impersonation } from "./rules/impersonation";
import { injectionThenAction } from "./rules/injection-then-action";
import { policyViolation } from "./rules/policy-violation";
import { secretInPrompt } from "./rules/secret-in-prompt";
import { spanIdReuse } from "./rules/span-id-reuse";

/**
 * Every detector, in the order they run. Rules and declared policies fire from the first
 * span; learned detectors (novelty, off hours, volume) are silent while an agent learns.
 */
export const DETECTORS: readonly Detector[] = [
  destructiveWithoutApproval,
  injectionThenAction,
  secretInPrompt,
  impersonation,
  policyViolation,
  backdatedSpans,
  spanIdReuse,
  newTable,
  newTableOperation,
  newTool,
  newHost,
  newPeerAgent,
  newCredential,
  credentialNewHost,
  newEnvironment,
  offHours,
  callVolume,
];

/**
 * The learned detectors that also judge the databases' audit records, each against the
 * history the databases saw of the agent: an agent whose tracer is off is still judged.
 */
export const OBSERVED_DETECTORS: readonly Detector[] = [newTable, newTableOperation, offHours, callVolume];

/**
 * The rules that read a session's history: what they judge changes when a span learns
 * its session late (its trace's root came after it), so they judge such spans again.
 */
export const SESSION_DETECTORS: readonly Detector[] = [destructiveWithoutApproval, injectionThenAction];

/** Runs every detector over a set of new spans. */
export async function detect(ctx: DetectionContext, detectors: readonly Detector[] = DETECTORS): Promise<Alert[]> {
  const alerts: Alert[] = [];
  for (const d of detectors) alerts.push(...(await d.detect(ctx)));
  return alerts;
}
