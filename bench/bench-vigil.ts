import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vigil/common";
import { generateToken, parseVigilConfig, readEnvironment, sha256Hex } from "@vigil/config";
import type { VigilConfig } from "@vigil/config";
import { startAllInOne } from "@vigil/service-vigil";
import type { AllInOne } from "@vigil/service-vigil";

/** An all-in-one Vigil for a benchmark, and what a load generator needs to send to it. */
export interface BenchVigil {
  vigil: AllInOne;
  config: VigilConfig;
  /** The agent `support-bot`'s ingest token. */
  token: string;
  /** Where OTLP traces go. */
  url: string;
  dataDir: string;
}

/**
 * Starts the embedded all-in-one on loopback ports in a new temporary data directory,
 * with the agent `support-bot` and any further config (`extraYaml`, top-level keys).
 * chDB binds one data directory per process: one per benchmark process.
 */
export async function startBenchVigil(prefix: string, extraYaml = ""): Promise<BenchVigil> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const token = generateToken();
  const config = parseVigilConfig(
    `agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n${extraYaml}`,
  );
  const env = readEnvironment({
    VIGIL_DATA_DIR: dataDir,
    VIGIL_INGEST_PORT: "0",
    VIGIL_API_PORT: "0",
    VIGIL_HOST: "127.0.0.1",
    // The pipeline threads, when the bench is told (bench/threads.ts); else the default.
    ...(process.env.VIGIL_INGEST_THREADS === undefined
      ? {}
      : { VIGIL_INGEST_THREADS: process.env.VIGIL_INGEST_THREADS }),
  });
  const vigil = await startAllInOne(env, config, createLogger("warn"));
  return { vigil, config, token, url: `http://127.0.0.1:${vigil.ingestPort}/v1/traces`, dataDir };
}
