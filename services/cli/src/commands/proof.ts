import { readFileSync, writeFileSync } from "node:fs";
import { parseVerifierKey, verifySpanProof } from "@vigil/store";
import type { SpanProof } from "@vigil/store";
import { CliError, apiRequest } from "../api-client";
import type { ApiTarget } from "../api-client";

/** `vigil proof get <traceId> <spanId>`: fetch a span's inclusion proof. */
export async function proofGetCommand(
  target: ApiTarget,
  traceId: string,
  spanId: string,
  options: { output?: string },
  print: (s: string) => void,
): Promise<number> {
  const proof = await apiRequest<SpanProof>(
    target,
    `/api/spans/${encodeURIComponent(traceId)}/${encodeURIComponent(spanId)}/proof`,
  );
  const text = JSON.stringify(proof, null, 2);
  if (options.output === undefined) print(text);
  else {
    writeFileSync(options.output, `${text}\n`);
    print(`proof written to ${options.output}`);
  }
  return 0;
}

/**
 * `vigil proof verify <file> --public-key <vkey>`: check a proof offline, with nothing
 * but the ledger's verifier key (data/ledger-signing.key.vkey, or GET /api/ledger/key).
 */
export function proofVerifyCommand(file: string, options: { publicKey: string }, print: (s: string) => void): number {
  let proof: SpanProof;
  try {
    proof = JSON.parse(readFileSync(file, "utf8")) as SpanProof;
  } catch (err) {
    throw new CliError(`cannot read a proof from ${file}: ${(err as Error).message}`);
  }
  const vkey = /^[^\s+]+\+[0-9a-f]{8}\+/.test(options.publicKey)
    ? options.publicKey
    : readFileSync(options.publicKey, "utf8");
  const verdict = verifySpanProof(proof, parseVerifierKey(vkey));
  if (verdict.ok) {
    print(
      `valid: span ${proof.span.traceId}/${proof.span.spanId} is in batch ${proof.entry.seq} of ${verdict.origin}, checkpoint of ${verdict.treeSize} batches`,
    );
    return 0;
  }
  print(`INVALID: ${verdict.reason}`);
  return 1;
}
