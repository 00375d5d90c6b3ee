import type { Alert, Decision, Notification } from "@vigil/store";
import { consoleLinks, describeGroup, eventTimeIso, ordered, topAlert, truncate } from "./common";

/** Block Kit limits (api.slack.com/reference/block-kit): 50 blocks, 3000-character section text, 10 fields of 2000. */
const MAX_DETAILED = 5;
const EMOJI: Record<string, string> = {
  critical: ":red_circle:",
  high: ":large_orange_circle:",
  medium: ":large_yellow_circle:",
  low: ":white_circle:",
  info: ":information_source:",
};

type Block = Record<string, unknown>;
const mrkdwn = (text: string) => ({ type: "mrkdwn", text: truncate(text, 2000) });

/**
 * Text from spans (summaries, inputs, names) escaped as Slack asks for mrkdwn
 * (api.slack.com/reference/surfaces/formatting#escaping): `&`, `<` and `>` as entities,
 * so an agent cannot post `<!channel>`, `<@U…>` mentions or disguised `<url|label>` links
 * into the security channel.
 */
export const slackEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
/** The same inside a code span, where a backtick would end the span early. */
const code = (text: string) => slackEscape(text).replace(/`/g, "'");

/** A Slack incoming-webhook message (Block Kit) for a notification. */
export function slackMessage(
  n: Notification,
  alerts: readonly Alert[],
  publicUrl: string,
): { text: string; blocks: Block[] } {
  const top = topAlert(alerts);
  if (n.kind === "resolved" || top === undefined) {
    const text = `Resolved: ${alerts.length} Vigil alert(s) (${slackEscape(describeGroup(n))})`;
    return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text: `:white_check_mark: ${text}` } }] };
  }
  const list = ordered(n, alerts);
  const blocks: Block[] = [
    {
      type: "header",
      text: { type: "plain_text", text: truncate(`${top.severity.toUpperCase()}: ${top.summary}`, 150), emoji: true },
    },
    {
      type: "context",
      elements: [
        mrkdwn(`${alerts.length} alert(s), ${n.newAlertIds.length} new · group ${slackEscape(describeGroup(n))}`),
      ],
    },
  ];
  for (const a of list.slice(0, MAX_DETAILED)) {
    const links = consoleLinks(publicUrl, a);
    blocks.push({ type: "divider" });
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: truncate(`${EMOJI[a.severity] ?? ""} *${slackEscape(a.summary)}*\n${slackEscape(a.explanation)}`, 3000),
      },
    });
    blocks.push({
      type: "section",
      fields: [
        mrkdwn(`*Severity*\n${a.severity} (${a.score}/100)`),
        mrkdwn(`*Detector*\n\`${code(a.detector)}\``),
        mrkdwn(`*Agent*\n${slackEscape(a.agentId)}`),
        mrkdwn(`*Environment*\n${a.environment === "" ? "(none)" : slackEscape(a.environment)}`),
        mrkdwn(`*When*\n${eventTimeIso(a)}`),
        mrkdwn(
          `*Rotate*\n${a.credentials.length === 0 ? "no credential involved" : a.credentials.map((c) => `\`${code(c)}\``).join(", ")}`,
        ),
      ],
    });
    if (a.input !== "")
      blocks.push({
        type: "section",
        text: mrkdwn(
          `*Input that caused it* (redacted)\n>${slackEscape(truncate(a.input, 500)).replace(/\n/g, "\n>")}`,
        ),
      });
    blocks.push({
      type: "section",
      text: mrkdwn(`*Evidence*\n\`\`\`${code(truncate(JSON.stringify(a.evidence), 1500))}\`\`\``),
    });
    blocks.push({
      type: "context",
      elements: [mrkdwn(`<${links.session}|Open the session> · <${links.alert}|Alert ${a.alertId}>`)],
    });
  }
  if (list.length > MAX_DETAILED)
    blocks.push({
      type: "context",
      elements: [mrkdwn(`and ${list.length - MAX_DETAILED} more alert(s) in this group`)],
    });
  return { text: truncate(`Vigil ${top.severity}: ${slackEscape(top.summary)}`, 3000), blocks };
}

/**
 * A pending approval request as a Slack message with Approve and Deny buttons (Block Kit
 * `actions`; the clicks come back to Vigil's interactivity endpoint, signed by Slack).
 * Vigil's own rendering of the action comes first; the agent's words follow, quoted and
 * escaped, so an agent cannot word its way past what the facts say.
 */
export function slackApprovalRequest(
  d: Pick<Decision, "decisionId" | "agentId" | "sessionId" | "rendering" | "description" | "reasons" | "expiresAtMs">,
  publicUrl: string,
): { text: string; blocks: Block[] } {
  const text = `Approval needed: ${slackEscape(d.agentId)} asks to run ${slackEscape(d.rendering)}`;
  return {
    text: truncate(text, 3000),
    blocks: [
      { type: "header", text: { type: "plain_text", text: truncate(`Approval needed: ${d.agentId}`, 150) } },
      { type: "section", text: mrkdwn(`*What Vigil sees*\n\`${code(d.rendering)}\``) },
      { type: "section", text: mrkdwn(`*Why it needs you*\n${slackEscape(d.reasons.join("; "))}`) },
      { type: "section", text: mrkdwn(`*The agent says*\n>${slackEscape(d.description).replace(/\n/g, "\n>")}`) },
      {
        type: "context",
        elements: [
          mrkdwn(
            `session \`${code(d.sessionId || "none")}\` · expires ${new Date(d.expiresAtMs).toISOString()} · ` +
              `<${publicUrl}/decisions|open in Vigil>`,
          ),
        ],
      },
      {
        type: "actions",
        block_id: `vigil_decision_${d.decisionId}`,
        elements: [
          {
            type: "button",
            action_id: "vigil_approve",
            style: "primary",
            text: { type: "plain_text", text: "Approve" },
            value: d.decisionId,
          },
          {
            type: "button",
            action_id: "vigil_deny",
            style: "danger",
            text: { type: "plain_text", text: "Deny" },
            value: d.decisionId,
          },
        ],
      },
    ],
  };
}
