import { afterAll, expect, it } from "vitest";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { countSpans, openStoreClient } from "@vigil/store";

const dataDir = mkdtempSync(join(tmpdir(), "vigil-start-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Starts `services/vigil/src/main.ts` the way `npm start` does, on OS-chosen ports. */
function startProcess(): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", "services/vigil/src/main.ts"], {
    env: {
      PATH: process.env.PATH,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_INGEST_PORT: "0",
      VIGIL_API_PORT: "0",
      VIGIL_HOST: "127.0.0.1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("a first start writes a demo token (0600 file, path printed, never the token) that an OTel exporter can use at once, and SIGTERM flushes before exit", async () => {
  const { child, output } = startProcess();
  const file = await waitFor(
    "the credentials file's path",
    () => /are in (\S+first-start-credentials\.txt)/.exec(output())?.[1],
  );
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  const token = /^ingest_token (vgl_\S+)$/m.exec(readFileSync(file, "utf8"))?.[1] as string;
  expect(token).toBeTruthy();
  expect(output()).not.toContain(token);
  expect(output()).not.toContain(/^admin_api_key (\S+)$/m.exec(readFileSync(file, "utf8"))?.[1] as string);
  const endpoint = await waitFor(
    "the exporter endpoint",
    () => /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=(\S+)/.exec(output())?.[1],
  );
  const apiPort = await waitFor("the API port", () => /"apiPort":(\d+)/.exec(output())?.[1]);
  expect((await fetch(`http://127.0.0.1:${apiPort}/readyz`)).status).toBe(200);

  const provider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint, headers: { Authorization: `Bearer ${token}` } })),
    ],
  });
  const tracer = provider.getTracer("readme-example");
  for (let i = 0; i < 50; i++) tracer.startSpan(`step ${i}`).end();
  await provider.forceFlush();
  await provider.shutdown();

  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(output()).toMatch(/"msg":"stopped"/);
  // The token never reaches stdout or a log line.
  expect(output()).not.toContain(token);

  // The process is gone, so this test process may open the same embedded store.
  const client = openStoreClient({ mode: "embedded", dataDir });
  expect(await countSpans(client, "demo")).toBe(50);
  await client.close();
});

it("refuses to start on an invalid config and lists every problem with its path", async () => {
  const bad = join(dataDir, "bad.yaml");
  writeFileSync(bad, 'agents:\n  - id: "Bad Id"\n    tokens:\n      - sha256: nope\n');
  const child = spawn(process.execPath, ["--import", "tsx", "services/vigil/src/main.ts"], {
    env: {
      PATH: process.env.PATH,
      VIGIL_CONFIG: bad,
      VIGIL_DATA_DIR: join(dataDir, "other"),
      VIGIL_INGEST_PORT: "0",
      VIGIL_API_PORT: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  expect(code).toBe(1);
  expect(err).toMatch(/invalid configuration:/);
  expect(err).toContain(`${bad}: agents.0.id:`);
  expect(err).toContain(`${bad}: agents.0.tokens.0.sha256:`);
});
