import type { DecisionAnswer, RequestBody } from "@vigil/api-contract";
import type { ApiTarget } from "../api-client";
import { apiRequest } from "../api-client";
import { table } from "../table";

interface DecisionView {
  decisionId: string;
  agentId: string;
  sessionId: string;
  rendering: string;
  description: string;
  reasons: string[];
  status: string;
  requestedAt: string;
  expiresAt: string;
  decidedBy: string;
  justification: string;
}

/** `vigil decisions [--status pending]`: the confirmation gate's requests, newest first. */
export async function decisionsCommand(
  target: ApiTarget,
  o: { status?: string; agent?: string; json?: boolean },
  print: (s: string) => void,
): Promise<number> {
  const query = new URLSearchParams();
  if (o.status !== undefined) query.set("status", o.status);
  if (o.agent !== undefined) query.set("agent", o.agent);
  const { decisions } = await apiRequest<{ decisions: DecisionView[] }>(target, `/api/decisions?${query.toString()}`);
  if (o.json === true) print(JSON.stringify(decisions, null, 2));
  else if (decisions.length === 0) print(`no ${o.status ?? ""} decisions`.replace("  ", " "));
  else
    print(
      table(
        ["ID", "STATUS", "AGENT", "ACTION (as Vigil reads it)", "AGENT SAYS", "BY"],
        decisions.map((d) => [d.decisionId, d.status, d.agentId, d.rendering, d.description, d.decidedBy]),
      ),
    );
  return 0;
}

/** `vigil approve|deny <id> --justification "..."`. */
export async function decideCommand(
  target: ApiTarget,
  verdict: "approve" | "deny",
  id: string,
  o: { justification: string },
  print: (s: string) => void,
): Promise<number> {
  const d = await apiRequest<DecisionView>(target, `/api/decisions/${encodeURIComponent(id)}/${verdict}`, {
    method: "POST",
    body: { justification: o.justification } satisfies RequestBody<typeof DecisionAnswer>,
  });
  print(`${d.decisionId}: ${d.status} by ${d.decidedBy}: ${d.rendering}`);
  return 0;
}
