import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { encodeProtobufRequest, richRequest } from "../support/otlp-fixtures";
import { startVigil } from "../support/vigil-harness";
import type { Harness } from "../support/vigil-harness";

const exec = promisify(execFile);
let h: Harness;
const traceId = "0123456789abcdef0123456789abcdef";

/** Runs the real `vigil` command; returns its exit code and output. */
async function vigil(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["services/cli/bin/vigil.js", ...args], {
      env: { PATH: process.env.PATH ?? "", VIGIL_API_URL: h.apiUrl, ...env },
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

beforeAll(async () => {
  h = await startVigil();
  const res = await fetch(h.ingestUrl, {
    method: "POST",
    body: Buffer.from(encodeProtobufRequest(richRequest(traceId))),
    headers: { "content-type": "application/x-protobuf", authorization: `Bearer ${h.tokens["support-bot"]}` },
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await h.stop();
});

describe("vigil CLI", () => {
  it("verify: prints that the store is intact and exits 0", async () => {
    const r = await vigil(["verify"], { VIGIL_API_KEY: h.apiKeys.reader });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^intact: 1 batches, 1 rows/);
  });

  it("proof get and proof verify: a span's proof checks offline; an edited proof does not", async () => {
    const file = join(h.dataDir, "proof.json");
    const got = await vigil(["--key", h.apiKeys.reader, "proof", "get", traceId, "eee19b7ec3c1b174", "-o", file]);
    expect(got.err).toBe("");
    expect(got.code).toBe(0);
    const vkey = join(h.dataDir, "ledger-signing.key.vkey");
    const ok = await vigil(["proof", "verify", file, "--public-key", vkey]);
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^valid: span/);

    const forged = join(h.dataDir, "forged.json");
    writeFileSync(forged, readFileSync(file, "utf8").replace("support-bot", "billing-bot"));
    const bad = await vigil(["proof", "verify", forged, "--public-key", readFileSync(vkey, "utf8").trim()]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^INVALID:/);
  });

  it("exits 2 with a clear message without a key, with a wrong key, or when the API is down", async () => {
    const noKey = await vigil(["verify"]);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/no API key/);
    const wrong = await vigil(["verify", "--key", "vak_nope"]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/401/);
    const down = await vigil(["verify"], { VIGIL_API_KEY: "k", VIGIL_API_URL: "http://127.0.0.1:9" });
    expect(down.code).toBe(2);
    expect(down.err).toMatch(/cannot reach the Vigil API/);
  });
});
