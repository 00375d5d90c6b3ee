/**
 * A scenario simulator: normal traffic for a few agents with a daily and weekly rhythm
 * and noise, sent through the real ingest path as OTLP/JSON, then incidents on top.
 * Deterministic (seeded), so a test can assert exactly what should alert.
 */
import { prng } from "../../packages/secrets/src/corpus";

export interface AgentProfileSpec {
  id: string;
  /** Working hours in UTC, [start, end). */
  hours: [number, number];
  /** Mean calls per 5-minute bucket during working hours. */
  callsPer5m: number;
  tools: string[];
  /** SELECT/INSERT/UPDATE statements the agent runs, round-robin. */
  statements: string[];
  credential: string;
  hosts: string[];
  peers: string[];
}

export interface SimSpan {
  startMs: number;
  session: string;
  attrs: Record<string, string>;
  kind?: number;
}

/** Normal traffic of one agent between two instants: office hours only, weekdays busier. */
export function normalTraffic(
  agent: AgentProfileSpec,
  fromMs: number,
  toMs: number,
  seed: number,
  drift = 0,
): SimSpan[] {
  const rand = prng(seed);
  const spans: SimSpan[] = [];
  const start = fromMs - (fromMs % 300_000);
  for (let bucket = start; bucket < toMs; bucket += 300_000) {
    const d = new Date(bucket);
    const hour = d.getUTCHours();
    if (hour < agent.hours[0] || hour >= agent.hours[1]) continue;
    const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
    const progress = (bucket - fromMs) / Math.max(1, toMs - fromMs);
    const mean = agent.callsPer5m * (weekend ? 0.4 : 1) * (1 + drift * progress);
    const calls = Math.max(0, Math.round(mean * (0.7 + 0.6 * rand())));
    for (let i = 0; i < calls; i++) {
      const n = Math.floor(rand() * 1e9);
      const session = `${agent.id}-${Math.floor(bucket / 1_800_000)}`;
      const t = bucket + Math.floor(rand() * 299_000);
      const roll = rand();
      const attrs: Record<string, string> = { "gen_ai.tool.name": agent.tools[n % agent.tools.length] as string };
      if (roll < 0.5) {
        attrs["db.system.name"] = "postgresql";
        attrs["db.query.text"] = agent.statements[n % agent.statements.length] as string;
        attrs["vigil.credential.id"] = agent.credential;
      } else if (roll < 0.8 && agent.hosts.length > 0) {
        attrs["url.full"] = `https://${agent.hosts[n % agent.hosts.length]}/v1/items/${n % 1000}`;
      } else if (agent.peers.length > 0 && roll > 0.97) {
        attrs["vigil.peer.agent"] = agent.peers[n % agent.peers.length] as string;
      }
      spans.push({
        startMs: t,
        session,
        attrs,
        kind: attrs["url.full"] !== undefined || attrs["vigil.peer.agent"] !== undefined ? 3 : 1,
      });
    }
  }
  return spans;
}

let traceCounter = 0;

/** OTLP/JSON requests of at most `perRequest` spans. */
export function toRequests(spans: SimSpan[], perRequest = 500): string[] {
  const requests: string[] = [];
  for (let i = 0; i < spans.length; i += perRequest) {
    const chunk = spans.slice(i, i + perRequest).map((s, j) => {
      traceCounter++;
      const start = BigInt(s.startMs) * 1_000_000n + BigInt(j);
      return {
        traceId: traceCounter.toString(16).padStart(32, "0"),
        spanId: "00000000000000a1",
        name: s.attrs["gen_ai.tool.name"] ?? "step",
        kind: s.kind ?? 1,
        startTimeUnixNano: String(start),
        endTimeUnixNano: String(start + 2_000_000n),
        attributes: Object.entries({ "session.id": s.session, ...s.attrs }).map(([key, v]) => ({
          key,
          value: { stringValue: v },
        })),
      };
    });
    requests.push(
      JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: chunk }] }] }),
    );
  }
  return requests;
}
