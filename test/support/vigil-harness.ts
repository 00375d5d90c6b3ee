import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vigil/common";
import { generateToken, parseVigilConfig, readEnvironment, sha256Hex } from "@vigil/config";
import { startAllInOne } from "@vigil/service-vigil";
import type { AllInOne } from "@vigil/service-vigil";

export interface Harness {
  vigil: AllInOne;
  ingestUrl: string;
  apiUrl: string;
  /** Agent id → its bearer token. */
  tokens: Record<string, string>;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts the real all-in-one Vigil in this test process on loopback ports chosen by
 * the OS, with a fresh embedded store in a temporary directory and one token per agent.
 */
export async function startVigil(agents: readonly string[] = ["support-bot", "billing-bot"]): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "vigil-test-"));
  const tokens: Record<string, string> = {};
  for (const agent of agents) tokens[agent] = generateToken();
  const yaml = `agents:\n${agents.map((a) => `  - id: ${a}\n    tokens:\n      - sha256: "${sha256Hex(tokens[a] as string)}"\n`).join("")}`;
  const env = readEnvironment({
    VIGIL_DATA_DIR: dataDir,
    VIGIL_INGEST_PORT: "0",
    VIGIL_API_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
  });
  const vigil = await startAllInOne(env, parseVigilConfig(yaml), createLogger("warn"));
  return {
    vigil,
    ingestUrl: `http://127.0.0.1:${vigil.ingestPort}/v1/traces`,
    apiUrl: `http://127.0.0.1:${vigil.apiPort}`,
    tokens,
    dataDir,
    stop: async () => {
      await vigil.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
