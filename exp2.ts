import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@vigil/common";
import { generateToken, parseVigilConfig, readEnvironment, sha256Hex } from "@vigil/config";
import { startAllInOne } from "@vigil/service-vigil";
const dataDir = mkdtempSync(join(tmpdir(), "vigil-exp-"));
const token = generateToken();
const config = parseVigilConfig(`agents:\n  - id: support-bot\n    tokens:\n      - sha256: "${sha256Hex(token)}"\n`);
const env = readEnvironment({ VIGIL_DATA_DIR: dataDir, VIGIL_INGEST_PORT: "0", VIGIL_API_PORT: "0", VIGIL_HOST: "127.0.0.1" });
const vigil = await startAllInOne(env, config, createLogger("warn"));
const url = `http://127.0.0.1:${vigil.ingestPort}/v1/traces`;
const out = await new Promise<string>((resolve) => {
  const c = spawn(process.execPath, ["--import", "tsx", "bench/load-generator.ts", url, token, "10", process.env.C ?? "16", "512"], { stdio: ["ignore", "pipe", "inherit"] });
  let o = ""; c.stdout.on("data", (d: Buffer) => (o += d)); c.on("exit", () => resolve(o));
});
console.log(out);
await vigil.stop();
