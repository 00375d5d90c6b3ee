import type { DetectionConfig } from "@vigil/config";
import { seenPairs } from "@vigil/store";
import type { AgentProfile, ClickHouseClient, DetectSpan, RowOrigin, SeenValue } from "@vigil/store";
import { notAfter } from "../session-history";
import { learningEndNs } from "./learning";

/**
 * Every (dimension, value) pair of agent_activity that the learned detectors may ask about
 * for these spans. Values are collected per dimension first: a step holds thousands of
 * spans that repeat a few tools, tables and credentials, and building a key per span per
 * pair was a tenth of ingest's main-thread time under load (measured with --cpu-prof).
 */
function pairsOf(spans: readonly DetectSpan[]): Array<[string, string]> {
  const byDimension = new Map<string, Set<string>>();
  const add = (d: string, v: string): void => {
    if (v === "") return;
    let values = byDimension.get(d);
    if (values === undefined) byDimension.set(d, (values = new Set()));
    values.add(v);
  };
  for (let h = 0; h < 24; h++) add("hour", String(h));
  const credentials = new Set<string>();
  for (const s of spans) {
    const f = s.facts;
    add("tool", f.tool);
    add("host", f.outboundHost);
    add("peer", f.peerAgent);
    add("credential", f.credentialId);
    for (const t of f.dbTables) {
      add("table", t);
      if (f.dbOperation !== "") add("table_operation", `${t}:${f.dbOperation}`);
    }
    if (f.credentialId !== "") {
      if (f.outboundHost !== "") add("credential_host", `${f.credentialId}@${f.outboundHost}`);
      credentials.add(f.credentialId);
    }
  }
  for (const c of credentials) for (let h = 0; h < 24; h++) add("credential_hour", `${c}@${h}`);
  const pairs: Array<[string, string]> = [];
  for (const [d, values] of byDimension) for (const v of values) pairs.push([d, v]);
  return pairs;
}

/**
 * What the learned detectors know about each agent during one detection step, read in
 * one query per agent and environment (detection shares the embedded engine with ingest,
 * so the number of queries per step is what its latency is made of).
 */
export class ActivityCache {
  private readonly reads = new Map<string, Promise<Map<string, SeenValue>>>();

  /**
   * @param acrossEnvironments agents judged by one profile across all their environments
   *   (those that declare none): a span in an environment never used before is then
   *   compared with everything the agent did, not with an empty, silent profile.
   */
  constructor(
    private readonly client: ClickHouseClient,
    private readonly spans: readonly DetectSpan[],
    private readonly acrossEnvironments: (agentId: string) => boolean = () => false,
    /** Whose history: the agents' reports, or what their databases saw. */
    readonly origin: RowOrigin = "agent",
  ) {}

  private history(agentId: string, environment: string): Promise<Map<string, SeenValue>> {
    const scope = this.acrossEnvironments(agentId) ? undefined : environment;
    const key = `${agentId}\n${scope ?? "*"}`;
    const cached = this.reads.get(key);
    if (cached !== undefined) return cached;
    const mine = this.spans.filter(
      (s) => s.agentId === agentId && (scope === undefined || s.facts.environment === scope),
    );
    const read = seenPairs(this.client, agentId, scope, pairsOf(mine), this.origin);
    this.reads.set(key, read);
    return read;
  }

  /** The history of some values of one dimension (values never seen are absent). */
  async seen(
    agentId: string,
    environment: string,
    dimension: string,
    values: readonly string[],
  ): Promise<Map<string, SeenValue>> {
    const all = await this.history(agentId, environment);
    const out = new Map<string, SeenValue>();
    for (const v of values) {
      const hit = all.get(`${dimension}\n${v}`);
      if (hit !== undefined) out.set(v, hit);
    }
    return out;
  }

  /**
   * True while the span's agent is still learning (cold start): learned detectors stay
   * silent. Called for every span by several detectors, so the learning end is worked out
   * once per agent and environment, and each span costs one comparison of decimal strings.
   */
  async learning(span: DetectSpan, cfg: DetectionConfig): Promise<boolean> {
    const key = `${span.agentId}\n${span.facts.environment}`;
    let end = this.learningEnds.get(key);
    if (end === undefined) {
      end = this.profile(span.agentId, span.facts.environment).then((p) => learningEndNs(p, cfg)?.toString() ?? null);
      this.learningEnds.set(key, end);
    }
    const endNs = await end;
    return endNs === null || !notAfter(endNs, span.startTimeUnixNano);
  }

  private readonly learningEnds = new Map<string, Promise<string | null>>();

  /** The agent's overall history: first span, span count and spans per UTC hour. */
  async profile(agentId: string, environment: string): Promise<AgentProfile> {
    const all = await this.history(agentId, environment);
    const byHour = new Array<number>(24).fill(0);
    let first: string | undefined;
    for (let h = 0; h < 24; h++) {
      const hit = all.get(`hour\n${h}`);
      if (hit === undefined) continue;
      byHour[h] = hit.calls;
      if (first === undefined || BigInt(hit.firstSeenNs) < BigInt(first)) first = hit.firstSeenNs;
    }
    return { firstSeenNs: first, spans: byHour.reduce((a, b) => a + b, 0), byHour };
  }
}
