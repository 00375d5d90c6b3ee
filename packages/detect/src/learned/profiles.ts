import { agentProfile } from "@vigil/store";
import type { AgentProfile, ClickHouseClient } from "@vigil/store";

/** Agent profiles read once per detection step, shared by the learned detectors. */
export class ProfileCache {
  private readonly profiles = new Map<string, Promise<AgentProfile>>();

  constructor(private readonly client: ClickHouseClient) {}

  get(agentId: string, environment: string): Promise<AgentProfile> {
    const key = `${agentId}\n${environment}`;
    let p = this.profiles.get(key);
    if (p === undefined) {
      p = agentProfile(this.client, agentId, environment);
      this.profiles.set(key, p);
    }
    return p;
  }
}
