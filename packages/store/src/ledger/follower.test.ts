import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStoreClient } from "../client";
import { runMigrations } from "../migrations";
import { loadOrCreateSigningKey, verifyCheckpoint } from "./checkpoint";
import { Checkpointer } from "./checkpointer";
import { entryHashOf } from "./entry";
import { LedgerFollower } from "./follower";
import { Ledger, ledgerRow, readLedger } from "./ledger";
import { leafHash } from "./merkle";

/**
 * The signer that does not write the ledger (the worker) signs what it read and checked
 * from the store. An attacker with the writer's store rights (ingest's) rewrites an
 * entry that was already signed, or appends one that does not link: the signer refuses
 * the chain instead of signing it, beside the honest chain it keeps signing.
 */
const dir = mkdtempSync(join(tmpdir(), "vigil-follower-"));
const client = openStoreClient({ mode: "embedded", dataDir: dir });
const key = loadOrCreateSigningKey(join(dir, "ledger-signing.key"), "vigil-ledger");
beforeAll(async () => {
  await runMigrations(client);
});
afterAll(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

const writeBatches = async (chainId: string, n: number) => {
  const ledger = await Ledger.open(client, chainId);
  for (let i = 0; i < n; i++) await ledger.append(crypto.randomUUID(), [leafHash(`${chainId}-${i}`)]);
  return ledger;
};

const insertEntry = (e: Parameters<typeof entryHashOf>[0] & { entryHash: string }) =>
  client.insert({ table: "ledger", format: "JSONEachRow", values: [ledgerRow(e)] });

describe("the checkpoint signer's own view of a chain", () => {
  it("signs the same tree head as the writer, and follows what the writer appends", async () => {
    const writer = await writeBatches("honest", 3);
    const follower = await LedgerFollower.open(client, "honest", key);
    expect(follower.treeHead()).toEqual(writer.treeHead());
    const signed = await new Checkpointer(client, follower, key, "vigil-ledger/honest").checkpoint();
    expect(verifyCheckpoint(signed.note, key).size).toBe(3);
    await writer.append(crypto.randomUUID(), [leafHash("more")]);
    await follower.catchUp();
    expect(follower.treeHead()).toEqual(writer.treeHead());
    // A signer started afterwards rebuilds the same tree and accepts its earlier checkpoint.
    expect((await LedgerFollower.open(client, "honest", key)).treeHead()).toEqual(writer.treeHead());
  });

  it("refuses a chain whose signed history was rewritten, and one that gets an entry that does not link", async () => {
    await writeBatches("victim", 2);
    const follower = await LedgerFollower.open(client, "victim", key);
    await new Checkpointer(client, follower, key, "vigil-ledger/victim").checkpoint();
    // The attacker replaces entry 2 with one of its own, correctly hashed (no secret is needed for that).
    const [first, second] = await readLedger(client, "victim");
    const forged = { ...(second as NonNullable<typeof second>), batchRoot: "ff".repeat(32) };
    await client.command({ query: "ALTER TABLE ledger DELETE WHERE chain_id = 'victim' AND seq = 2" });
    await insertEntry({ ...forged, entryHash: entryHashOf(forged) });
    await expect(LedgerFollower.open(client, "victim", key)).rejects.toThrow(
      /do not match the checkpoint signed at size 2/,
    );

    // An entry appended out of line, read by a running signer.
    await writeBatches("appended", 1);
    const running = await LedgerFollower.open(client, "appended", key);
    const [head] = await readLedger(client, "appended");
    const loose = {
      chainId: "appended",
      seq: 2,
      batchId: crypto.randomUUID(),
      rowCount: 1,
      batchRoot: "aa".repeat(32),
      prevHash: (first as { entryHash: string }).entryHash, // another chain's hash
      createdAtMs: Date.now(),
    };
    await insertEntry({ ...loose, entryHash: entryHashOf(loose) });
    await expect(running.catchUp()).rejects.toThrow(/entry 2 does not link to the entry before it/);
    expect(running.treeHead().size).toBe(1);
    expect(head?.seq).toBe(1);
  });
});
