import { buildCheckpointRequest, resolveReceivers, send } from "@vigil/alerting";
import type { Logger } from "@vigil/common";
import type { Environment, VigilConfig } from "@vigil/config";
import { Checkpointer, LedgerFollower, appendWitnessCheckpoint, ledgerHeads } from "@vigil/store";
import type { LedgerTable } from "@vigil/store";
import type { ClickHouseClient, SigningKey, StoredCheckpoint } from "@vigil/store";

export type Witness = (checkpoint: StoredCheckpoint) => void | Promise<void>;

/** How long a checkpoint webhook may take before the checkpoint is retried. */
const WITNESS_TIMEOUT_MS = 10_000;

/**
 * Where each signed checkpoint is kept besides the store: the witness file
 * (VIGIL_CHECKPOINT_WITNESS_FILE) and the config's `checkpoints.webhooks`. A witness
 * that fails fails its checkpoint, which the next interval signs and sends again.
 */
export function checkpointWitnesses(env: Environment, config: VigilConfig): Witness[] {
  const witnesses: Witness[] = [];
  const file = env.checkpointWitnessFile;
  if (file !== undefined) witnesses.push((cp) => appendWitnessCheckpoint(file, cp));
  if (config.checkpoints.webhooks.length > 0) {
    const receivers = resolveReceivers(config.receivers, env.variables);
    for (const name of config.checkpoints.webhooks) {
      const receiver = receivers.get(name);
      if (receiver === undefined) continue; // the config schema already refused this
      witnesses.push(async (cp) => {
        const result = await send(receiver, buildCheckpointRequest(receiver, cp), WITNESS_TIMEOUT_MS);
        if (result.outcome !== "delivered")
          throw new Error(`checkpoint webhook ${name}: ${result.statusCode} ${result.error}`.trim());
      });
    }
  }
  return witnesses;
}

/**
 * Signs every ledger chain's stored entries, in a process that does not write them (the
 * worker, in server mode), so the key is never in the agent-facing ingest. Each chain is
 * followed from the store and checked link by link before its head is signed; a chain
 * whose stored history no longer matches what was signed is refused, loudly, and never
 * re-signed.
 */
export class CheckpointSigner {
  private readonly chains = new Map<string, { follower: LedgerFollower; checkpointer: Checkpointer }>();
  /** Chains refused, with why: logged at each pass until someone looks. */
  readonly refused = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly key: SigningKey,
    private readonly ledgerName: string,
    private readonly witnesses: readonly Witness[],
    private readonly logger: Logger,
  ) {}

  /** One pass: every chain's new entries read, checked and, when grown, signed. */
  signAll(): Promise<void> {
    this.running ??= (async () => {
      // The spans' chains and the gate's decision chains (their own table; chain ids differ: '@').
      const chainIds: Array<[string, LedgerTable]> = [];
      for (const table of ["ledger", "decision_ledger"] as const)
        for (const chainId of (await ledgerHeads(this.client, table)).keys()) chainIds.push([chainId, table]);
      for (const [chainId, table] of chainIds) {
        try {
          let chain = this.chains.get(chainId);
          if (chain === undefined) {
            const follower = await LedgerFollower.open(this.client, chainId, this.key, table);
            chain = {
              follower,
              checkpointer: new Checkpointer(
                this.client,
                follower,
                this.key,
                `${this.ledgerName}/${chainId}`,
                this.witnesses,
              ),
            };
            this.chains.set(chainId, chain);
          }
          await chain.follower.catchUp();
          await chain.checkpointer.checkpointIfGrown();
          this.refused.delete(chainId);
        } catch (err) {
          // A follower that saw a bad entry stays stopped at it: reopen from the store next time.
          this.chains.delete(chainId);
          this.refused.set(chainId, err instanceof Error ? err.message : String(err));
          this.logger.error("ledger chain not signed", { chainId, error: this.refused.get(chainId) });
        }
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(
      () =>
        void this.signAll().catch((err: unknown) => this.logger.warn("checkpoint pass failed", { error: String(err) })),
      intervalMs,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
