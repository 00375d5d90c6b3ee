import type { Logger } from "@vigil/common";
import type { EnvironmentVariables, VigilConfig } from "@vigil/config";
import type { Decision } from "@vigil/store";
import { slackApprovalRequest } from "./formats/slack";
import { resolveReceivers } from "./receivers";
import { backoffMs, send } from "./send";

const ATTEMPTS = 4;

/**
 * Posts each pending approval request to the Slack receivers named in `approvals.receivers`,
 * retrying a few times; the console, the API and the CLI list the request whatever
 * happens to the message, so a lost message delays a decision but never makes one.
 */
export function approvalRequestSender(
  config: VigilConfig,
  env: EnvironmentVariables,
  publicUrl: string,
  logger: Logger,
): ((decision: Decision) => void) | undefined {
  if (config.approvals.receivers.length === 0) return undefined;
  const all = resolveReceivers(config.receivers, env);
  const receivers = config.approvals.receivers.flatMap((name) => {
    const r = all.get(name);
    return r === undefined ? [] : [r];
  });
  return (decision) => {
    const body = JSON.stringify(slackApprovalRequest(decision, publicUrl));
    for (const receiver of receivers)
      void (async () => {
        for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
          const result = await send(
            receiver,
            { url: receiver.url, headers: { "content-type": "application/json" }, body },
            10_000,
          );
          if (result.outcome === "delivered") return;
          if (result.outcome !== "retry" || attempt === ATTEMPTS) {
            logger.warn("approval request not posted", {
              receiver: receiver.name,
              decisionId: decision.decisionId,
              status: result.statusCode,
              error: result.error,
            });
            return;
          }
          await new Promise((r) => setTimeout(r, backoffMs(attempt, result.retryAfterMs)));
        }
      })();
  };
}
