import type { VerifyRequest, RequestBody } from "@vigil/api-contract";
import { readWitnessCheckpoints } from "@vigil/store";
import type { VerifyReport } from "@vigil/store";
import { apiRequest } from "../api-client";
import type { ApiTarget } from "../api-client";

/**
 * `vigil verify`: recompute the store against the ledger; exit 1 when it is not intact.
 * `--witness <file>`: also against the checkpoints a witness file kept outside Vigil.
 */
export async function verifyCommand(
  target: ApiTarget,
  options: { json?: boolean; witness?: string },
  print: (s: string) => void,
): Promise<number> {
  const report =
    options.witness === undefined
      ? await apiRequest<VerifyReport>(target, "/api/verify")
      : await apiRequest<VerifyReport>(target, "/api/verify", {
          method: "POST",
          body: { witnesses: readWitnessCheckpoints(options.witness) } satisfies RequestBody<typeof VerifyRequest>,
        });
  if (options.json === true) {
    print(JSON.stringify(report, null, 2));
  } else {
    print(report.summary);
    for (const p of report.problems) {
      const where = [
        p.chainId === "" ? undefined : `chain ${p.chainId}`,
        p.seq === undefined ? undefined : `seq ${p.seq}`,
        p.batchId === undefined ? undefined : `batch ${p.batchId}`,
      ]
        .filter((x) => x !== undefined)
        .join(", ");
      print(`  ${p.kind.padEnd(20)} ${where}: ${p.detail}`);
    }
  }
  return report.ok ? 0 : 1;
}
