import type { Alert } from "@vigil/store";
import type { DetectionContext, Detector } from "./model";
import { destructiveWithoutApproval } from "./rules/destructive-without-approval";
import { impersonation } from "./rules/impersonation";
import { injectionThenAction } from "./rules/injection-then-action";
import { secretInPrompt } from "./rules/secret-in-prompt";

/** Every detector, in the order they run. Rules need no learning and fire from the first span. */
export const DETECTORS: readonly Detector[] = [
  destructiveWithoutApproval,
  injectionThenAction,
  secretInPrompt,
  impersonation,
];

/** Runs every detector over a set of new spans. */
export async function detect(ctx: DetectionContext, detectors: readonly Detector[] = DETECTORS): Promise<Alert[]> {
  const alerts: Alert[] = [];
  for (const d of detectors) alerts.push(...(await d.detect(ctx)));
  return alerts;
}
