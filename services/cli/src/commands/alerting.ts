import type { AckRequest, SilenceRequest, RequestBody } from "@vigil/api-contract";
import type { ApiTarget } from "../api-client";
import { CliError, apiRequest } from "../api-client";
import { table } from "../table";

interface Silence {
  silenceId: string;
  author: string;
  reason: string;
  matchers: Record<string, string[]>;
  startsAtMs: number;
  endsAtMs: number;
  active?: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const describe = (m: Record<string, string[]>): string =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${v.join("|")}`)
    .join(" ");

export interface SilenceAddOptions {
  agent?: string[];
  detector?: string[];
  severity?: string[];
  environment?: string[];
  kind?: string[];
  duration: string;
  reason: string;
  json?: boolean;
}

export async function silenceAdd(target: ApiTarget, o: SilenceAddOptions, print: (s: string) => void): Promise<number> {
  const matchers = Object.fromEntries(
    (["agent", "detector", "severity", "environment", "kind"] as const)
      .filter((k) => o[k] !== undefined && o[k].length > 0)
      .map((k) => [k, o[k]]),
  );
  if (Object.keys(matchers).length === 0)
    throw new CliError("a silence needs at least one of --agent, --detector, --severity, --environment, --kind");
  const s = await apiRequest<Silence>(target, "/api/silences", {
    method: "POST",
    body: { matchers, duration: o.duration, reason: o.reason } satisfies RequestBody<typeof SilenceRequest>,
  });
  print(
    o.json === true
      ? JSON.stringify(s, null, 2)
      : `silence ${s.silenceId}: ${describe(s.matchers)} until ${iso(s.endsAtMs)}`,
  );
  return 0;
}

export async function silenceList(
  target: ApiTarget,
  o: { json?: boolean; all?: boolean },
  print: (s: string) => void,
): Promise<number> {
  const { silences } = await apiRequest<{ silences: Silence[] }>(target, "/api/silences");
  const shown = o.all === true ? silences : silences.filter((s) => s.active === true);
  if (o.json === true) print(JSON.stringify(shown, null, 2));
  else if (shown.length === 0) print(o.all === true ? "no silences" : "no active silences (--all lists expired ones)");
  else
    print(
      table(
        ["ID", "MATCHES", "UNTIL", "BY", "REASON"],
        shown.map((s) => [s.silenceId, describe(s.matchers), iso(s.endsAtMs), s.author, s.reason]),
      ),
    );
  return 0;
}

export async function silenceExpire(target: ApiTarget, id: string, print: (s: string) => void): Promise<number> {
  const s = await apiRequest<Silence>(target, `/api/silences/${encodeURIComponent(id)}`, { method: "DELETE" });
  print(`silence ${s.silenceId} expired at ${iso(s.endsAtMs)}`);
  return 0;
}

export async function ackCommand(
  target: ApiTarget,
  alertId: string,
  o: { note?: string },
  print: (s: string) => void,
): Promise<number> {
  const ack = await apiRequest<{ alertId: string; author: string }>(
    target,
    `/api/alerts/${encodeURIComponent(alertId)}/ack`,
    { method: "POST", body: { note: o.note ?? "" } satisfies RequestBody<typeof AckRequest> },
  );
  print(`alert ${ack.alertId} acknowledged by ${ack.author}`);
  return 0;
}
